#!/usr/bin/env node
// The whole test suite once per tensor backend: `npm run test:backends [-- --backends cpu,gpujs] [--out FILE.json|.md]`.
// Each run sets ZOA_TEST_BACKEND (every test file switches to that backend, test/helpers/backend_setup.ts) and
// ZOA_BACKEND (the default --backend of the `zoa` commands the CLI tests spawn). `npm test` runs the suite on the
// default backend, plus the model-level suites on every backend (describe.each); this runs everything on each.
// Progress goes to stderr; the table (files, tests passed / failed, files failed outside a test (a hook timing
// out), skipped, wall time) and every failure to stdout at the end.
// Extra arguments after the flags are passed to vitest (e.g. a file filter).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const args = process.argv.slice(2);
let backends = ["simd", "cpu", "reference", "gpujs"];
let out = null;
const rest = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--backends") backends = args[++i].split(",").filter(Boolean);
  else if (args[i] === "--out") out = args[++i];
  else rest.push(args[i]);
}
const known = ["simd", "cpu", "reference", "gpujs"];
for (const b of backends) {
  if (!known.includes(b)) {
    console.error(`test_backends: --backends: unknown backend '${b}' (known: ${known.join(", ")})`);
    process.exit(2);
  }
}

// The CLI tests spawn dist/cli.js: build it from the current sources first.
const build = spawnSync("node", ["tools/build.mjs"], { stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);

const dir = mkdtempSync(join(tmpdir(), "zoa-test-backends-"));
const rows = [];
for (const backend of backends) {
  const json = join(dir, `${backend}.json`);
  process.stderr.write(`[test:backends] ${backend}: vitest run (ZOA_TEST_BACKEND=${backend})\n`);
  const t0 = Date.now();
  const r = spawnSync("npx", ["vitest", "run", "--reporter=dot", "--reporter=json", `--outputFile.json=${json}`, ...rest], {
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, ZOA_TEST_BACKEND: backend, ZOA_BACKEND: backend },
  });
  const wall = (Date.now() - t0) / 1000;
  let report;
  try {
    report = JSON.parse(readFileSync(json, "utf8"));
  } catch {
    report = null;
  }
  const row = report
    ? {
        backend,
        files: report.testResults.length,
        passed: report.numPassedTests,
        failed: report.numFailedTests,
        // Files that failed outside any test (a hook, an import): their tests count as skipped.
        failedFiles: report.testResults.filter((f) => f.status === "failed" && f.assertionResults.every((a) => a.status !== "failed")).length,
        skipped: report.numPendingTests + (report.numTodoTests ?? 0),
        wallSeconds: Math.round(wall),
        exitCode: r.status,
      }
    : { backend, files: 0, passed: 0, failed: 0, failedFiles: 0, skipped: 0, wallSeconds: Math.round(wall), exitCode: r.status };
  if (report) {
    const rel = (name) => name.replace(`${process.cwd()}/`, "");
    row.failedTests = report.testResults.flatMap((f) => [
      ...f.assertionResults.filter((a) => a.status === "failed").map((a) => `${rel(f.name)} > ${a.fullName}`),
      ...(f.status === "failed" && f.assertionResults.every((a) => a.status !== "failed") ? [`${rel(f.name)}: ${(f.message ?? "").split("\n")[0]}`] : []),
    ]);
  }
  rows.push(row);
  process.stderr.write(`[test:backends] ${backend}: ${row.passed} passed, ${row.failed} failed, ${row.failedFiles} files failed outside a test, ${row.skipped} skipped, ${row.wallSeconds} s\n`);
}

const header = "| backend | files | passed | failed | files failed outside a test | skipped | wall (s) |";
const lines = [
  header,
  "|---|---:|---:|---:|---:|---:|---:|",
  ...rows.map((r) => `| ${r.backend} | ${r.files} | ${r.passed} | ${r.failed} | ${r.failedFiles} | ${r.skipped} | ${r.wallSeconds} |`),
];
const failures = rows.flatMap((r) => (r.failedTests ?? []).map((t) => `- ${r.backend}: ${t}`));
const table = [...lines, ...(failures.length ? ["", "Failed:", ...failures] : [])].join("\n");
console.log(table);
if (out) {
  writeFileSync(out, out.endsWith(".md") ? `${table}\n` : `${JSON.stringify({ node: process.version, rows }, null, 2)}\n`);
  process.stderr.write(`[test:backends] wrote ${out}\n`);
}
process.exit(rows.every((r) => r.exitCode === 0 && r.failed === 0 && r.failedFiles === 0 && r.passed > 0) ? 0 : 1);
