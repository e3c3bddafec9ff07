// Times the gpujs backend on WebGL (headless Chromium; SwiftShader, a software renderer, unless Chromium finds
// a GPU) against the simd backend in the same page: GEMM 197x768x768 and two ResNet-20 convs (batch 64).
// Median of N runs after one warm-up call (which compiles the shaders; its extra time is printed apart).
// Usage: npx tsx tools/measure/gpujs_browser.ts [runs=5]
import { cpus, loadavg } from "node:os";
import type { TimingRow } from "../../test/browser/gpujs_page.js";
import { openPage } from "../../test/browser/harness.js";

const runs = Number(process.argv[2] ?? 5);
const opened = await openPage("test/browser/gpujs_page.ts", "zoaGpujsBench");
if (!opened) process.exit(0);
try {
  const info = await opened.page.evaluate(() => (globalThis as { zoaGpujsCheck?: () => { mode: string; renderer: string | null } }).zoaGpujsCheck?.());
  const rows = await opened.page.evaluate((n) => (globalThis as { zoaGpujsBench?: (r: number) => TimingRow[] }).zoaGpujsBench?.(n) ?? [], runs);
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model}; load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}`);
  console.log(`gpu.js mode ${info?.mode}, renderer ${info?.renderer}; median of ${runs} runs`);
  console.log("| op | GFLOP | gpujs ms | gpujs GFLOP/s | simd ms | simd GFLOP/s | gpujs first-call extra ms |");
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  for (const r of rows) {
    const simd = r.simdMs === null ? "n/a | n/a" : `${r.simdMs.toFixed(1)} | ${(r.gflop / (r.simdMs / 1000)).toFixed(2)}`;
    console.log(`| ${r.what} | ${r.gflop.toFixed(3)} | ${r.gpujsMs.toFixed(1)} | ${(r.gflop / (r.gpujsMs / 1000)).toFixed(2)} | ${simd} | ${r.compileMs.toFixed(0)} |`);
  }
} finally {
  await opened.close();
}
