// Where zoa-ts is installed: the folder of its package.json, found upwards from this module (src/cli/ when run
// from source, dist/ when bundled). The demo models ship beside it in models/, so `npx zoa demo` finds them from
// any working directory.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The zoa-ts package folder, or null when this module is not inside it. */
export function packageRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string };
        if (pkg.name === "zoa-ts") return dir;
      } catch {
        // not ours: keep looking upwards
      }
    }
    dir = dirname(dir);
  }
  return null;
}

/** The shipped demo models folder (package root/models), or null when the package root is unknown. */
export function demoModelsDir(): string | null {
  const root = packageRoot();
  return root ? join(root, "models") : null;
}
