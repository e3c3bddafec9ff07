// Builds dist/ with esbuild: the library entry, the CLI and the bench runner (ESM, Node 20).
import { build } from "esbuild";
import { chmodSync, copyFileSync, existsSync } from "node:fs";

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

// Browser: the library as one ESM file (dist/browser/zoa.js, and .min.js) and the demo page's script (dist/web/app.js,
// which imports the library file at run time). platform "browser" with no externals: a Node import reachable from
// src/browser.ts fails the build.
const browser = { bundle: true, platform: "browser", format: "esm", target: "es2022", sourcemap: true, logLevel: "warning" };
await build({ ...browser, entryPoints: ["src/browser.ts"], outfile: "dist/browser/zoa.js" });
await build({ ...browser, entryPoints: ["src/browser.ts"], outfile: "dist/browser/zoa.min.js", minify: true });
// gpu.js for pages that select the gpujs backend: a classic script that defines the global GPU (not bundled).
copyFileSync("node_modules/gpu.js/dist/gpu-browser.min.js", "dist/browser/gpu-browser.min.js");
if (existsSync("web/app.ts")) {
  const libraryAtRuntime = {
    name: "zoa-browser-external",
    setup(b) {
      b.onResolve({ filter: /\/src\/browser\.js$/ }, () => ({ path: "../browser/zoa.js", external: true }));
    },
  };
  await build({ ...browser, entryPoints: ["web/app.ts"], outfile: "dist/web/app.js", plugins: [libraryAtRuntime] });
}
