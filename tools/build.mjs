// Builds dist/ with esbuild: the library entry, the CLI and the bench runner (ESM, Node 20).
import { build } from "esbuild";
import { chmodSync, existsSync } from "node:fs";

const common = { bundle: true, platform: "node", format: "esm", target: "node20", sourcemap: true, logLevel: "warning" };
await build({ ...common, entryPoints: ["src/index.ts"], outfile: "dist/index.js", packages: "external" });
await build({
  ...common,
  entryPoints: ["src/cli/main.ts"],
  outfile: "dist/cli.js",
  banner: { js: "#!/usr/bin/env node" },
  packages: "external",
});
if (existsSync("bench/main.ts")) {
  await build({ ...common, entryPoints: ["bench/main.ts"], outfile: "dist/bench.js", packages: "external" });
}
chmodSync("dist/cli.js", 0o755);
