// The gpujs backend on real WebGL: test/browser/gpujs_page.ts is bundled with gpu.js's browser build, opened
// in headless Chromium (Debian's package, WebGL2 on SwiftShader) through playwright-core, and runs GEMM,
// batched attention, conv, softmax, elementwise and norm ops against the naive reference kernels in the page.
// Tolerance per op, from max |diff| reported back to Node (style.md C8a, C9):
//  - reductions over K products (matmul, conv, layerNorm, softmax rows) accumulate in float32 on the GPU:
//    atol 1e-5 * max(1, K / 64), twice the simd backend's bound (measured here: 8.6e-6 at K = 192, 6.7e-6 at 144);
//  - elementwise ops: 1e-6 * max(1, max |reference|), a few float32 ulps of the largest value (exp: 3.8e-6 at 20).
// Skips with a printed reason where /usr/bin/chromium is missing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpDiff, PageReport } from "./gpujs_page.js";
import { type BrowserPage, openPage } from "./harness.js";

function tolerance(d: OpDiff): number {
  return d.K > 0 ? 1e-5 * Math.max(1, d.K / 64) : 1e-6 * Math.max(1, d.maxAbsRef);
}

let opened: BrowserPage | null = null;
let report: PageReport | null = null;

beforeAll(async () => {
  opened = await openPage("test/browser/gpujs_page.ts", "zoaGpujsCheck");
  if (!opened) return;
  const p = opened;
  report = await p.page.evaluate(() => (globalThis as { zoaGpujsCheck?: () => PageReport }).zoaGpujsCheck?.() ?? null);
});

afterAll(async () => {
  await opened?.close();
});

describe("gpujs backend in headless Chromium (WebGL)", () => {
  it("runs gpu.js on WebGL2 (or WebGL), which auto does not pick on a software renderer", ({ skip }) => {
    if (!opened) return skip("no /usr/bin/chromium");
    if (!report) return expect.fail(`the page reported nothing; page log:\n${opened.log.join("\n")}`);
    expect(["webgl2", "webgl"]).toContain(report.mode);
    expect(report.renderer ?? "").not.toBe("");
    if (/swiftshader/i.test(report.renderer ?? "")) {
      expect(report.hardware).toBe(false);
      expect(report.autoBackend).not.toBe("gpujs");
    }
  });

  it("matches the reference kernels on every op within its tolerance", ({ skip }) => {
    if (!opened) return skip("no /usr/bin/chromium");
    if (!report) return expect.fail("the page reported nothing");
    expect(report.diffs.length).toBeGreaterThanOrEqual(20);
    for (const d of report.diffs) {
      expect(d.maxAbsRef, `${d.op}: reference is not all zeros`).toBeGreaterThan(0);
      expect(d.maxAbsDiff, `${d.op} (K ${d.K}, max |ref| ${d.maxAbsRef.toPrecision(3)})`).toBeLessThanOrEqual(tolerance(d));
    }
  });
});
