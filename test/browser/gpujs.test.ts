// The gpujs backend on real WebGL: test/browser/gpujs_page.ts is bundled with gpu.js's browser build, opened
// in headless Chromium (Debian's package, WebGL2 on SwiftShader) through playwright-core, and runs GEMM,
// batched attention, conv, softmax, elementwise and norm ops against the naive reference kernels in the page.
// Then residency: a chain of ops and the tiny PyTorch-golden ResNet and ViT forwards, counting what the gpujs
// runtime moved between host and device (runtime.transfers).
// Tolerance per op, from max |diff| reported back to Node (style.md C8a, C9):
//  - reductions over K products (matmul, conv, layerNorm, softmax rows) accumulate in float32 on the GPU:
//    atol 1e-5 * max(1, K / 64), twice the simd backend's bound (measured here: 8.6e-6 at K = 192, 6.7e-6 at 144);
//  - elementwise ops: 1e-6 * max(1, max |reference|), a few float32 ulps of the largest value (exp: 3.8e-6 at 20).
// Skips with a printed reason where /usr/bin/chromium is missing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChainReport, ModelReport, OpDiff, PageReport } from "./gpujs_page.js";
import { type BrowserPage, openPage } from "./harness.js";

function tolerance(d: OpDiff): number {
  return d.K > 0 ? 1e-5 * Math.max(1, d.K / 64) : 1e-6 * Math.max(1, d.maxAbsRef);
}

let opened: BrowserPage | null = null;
let report: PageReport | null = null;
let chain: ChainReport | null = null;
let models: ModelReport[] | null = null;

beforeAll(async () => {
  opened = await openPage("test/browser/gpujs_page.ts", "zoaGpujsCheck");
  if (!opened) return;
  const p = opened;
  report = await p.page.evaluate(() => (globalThis as { zoaGpujsCheck?: () => PageReport }).zoaGpujsCheck?.() ?? null);
  chain = await p.page.evaluate(() => (globalThis as { zoaGpujsChain?: () => ChainReport }).zoaGpujsChain?.() ?? null);
  models = await p.page.evaluate(() => (globalThis as { zoaGpujsModels?: () => ModelReport[] }).zoaGpujsModels?.() ?? null);
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
    expect(report.diffs.length).toBeGreaterThanOrEqual(34);
    for (const d of report.diffs) {
      expect(d.maxAbsRef, `${d.op}: reference is not all zeros`).toBeGreaterThan(0);
      expect(d.maxAbsDiff, `${d.op} (K ${d.K}, max |ref| ${d.maxAbsRef.toPrecision(3)})`).toBeLessThanOrEqual(tolerance(d));
    }
  });

  it("keeps data on the GPU between ops: a 10-op residual block + head reads back once, at the end", ({ skip }) => {
    if (!opened) return skip("no /usr/bin/chromium");
    if (!chain) return expect.fail(`the page reported no chain; page log:\n${opened.log.join("\n")}`);
    console.log(`[gpujs chain] ${JSON.stringify(chain)}`);
    // 10 ops, softmax is two launches; nothing came back to the host until the result was read, then one readback.
    expect(chain.beforeRead.launches).toBe(11);
    expect(chain.beforeRead.downloads).toBe(0);
    expect(chain.read).toEqual({ launches: 0, uploads: 0, downloads: 1 });
    // Only host tensors went up: x (read by conv1 and the residual add) 2, two conv weights and their zero
    // biases 4, two BN scale/shift pairs 4, the linear weight and bias 2, the matmul's batch offsets 2.
    expect(chain.beforeRead.uploads).toBe(14);
    expect(chain.maxAbsRef).toBeGreaterThan(0);
    expect(chain.maxAbsDiff).toBeLessThanOrEqual(1e-5 * (72 / 64) * 4);
    // dispose() of two kept outputs (the first block activation, the result) frees their textures at once; the
    // others wait for the garbage collector (y's texture is also held by the reshape views linear made of it).
    expect(chain.liveBefore - chain.liveAfterDispose).toBe(2);
  });

  it("runs the tiny PyTorch-golden ResNet and ViT on WebGL: logits match, activations stay on the GPU", ({ skip }) => {
    if (!opened) return skip("no /usr/bin/chromium");
    if (!models) return expect.fail(`the page reported no models; page log:\n${opened.log.join("\n")}`);
    console.log(`[gpujs models] ${JSON.stringify(models)}`);
    expect(models.length).toBe(2);
    for (const m of models) {
      expect(m.maxAbsRef, m.model).toBeGreaterThan(0);
      // float32 accumulation on the GPU: twice the simd backend's golden tolerance (2e-5 on these logits).
      expect(m.maxAbsDiff, m.model).toBeLessThanOrEqual(4e-5);
      // Every op of both models runs on the GPU (pooling, the attention head split/merge, the class token
      // concat and slice included): the logits are the one readback of the whole forward.
      expect(m.transfers.downloads, m.model).toBe(1);
      expect(m.transfers.launches, m.model).toBeGreaterThan(30);
    }
  });
});
