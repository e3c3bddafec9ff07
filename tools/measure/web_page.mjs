// Runs the browser page (web/) in headless Chromium and prints what it measured: backend, top-1, forward passes,
// milliseconds per batch (mean over the stream, and the last batch) of NoAdapt and ZOA; progress goes to stderr. Needs `node tools/build.mjs` first and models/ with the demo models.
//   node tools/measure/web_page.mjs "model=resnet8&corruptions=gaussian_noise,fog&batches=3&backend=simd" [--screenshot out.png]
// The page's URL parameters are listed in web/settings.ts; autorun=1 is added. Chromium: /usr/bin/chromium with
// SwiftShader (software WebGL), as in test/browser/web_page.test.ts.
import { spawn } from "node:child_process";
import { chromium } from "playwright-core";

const query = process.argv[2] ?? "";
const shotAt = process.argv.indexOf("--screenshot");
const screenshot = shotAt > 0 ? process.argv[shotAt + 1] : null;

const server = spawn(process.execPath, ["tools/web_server.mjs", "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
const base = await new Promise((resolve) => {
  let out = "";
  server.stdout.on("data", (d) => {
    out += String(d);
    const m = /(http:\/\/127\.0\.0\.1:\d+)\/web\//.exec(out);
    if (m) resolve(m[1]);
  });
});
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ["--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist"] });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("console", (m) => {
    if (m.type() === "error") console.error(`console error: ${m.text()}`);
  });
  const t0 = Date.now();
  await page.goto(`${base}/web/?${query}&autorun=1`);
  const progress = setInterval(async () => console.error(`[${((Date.now() - t0) / 1000).toFixed(0)} s] ${await page.textContent("#status").catch(() => "?")}`), 20_000);
  await page.waitForSelector('#status[data-state="done"], #status[data-state="error"]', { timeout: 0 });
  clearInterval(progress);
  const text = async (sel) => (await page.textContent(sel))?.trim() ?? "";
  const result = {
    query,
    status: await text("#status"),
    backend: await text("#backend-info"),
    wallSeconds: (Date.now() - t0) / 1000,
    methods: {},
  };
  for (const m of ["none", "zoa"]) {
    result.methods[m] = { top1: Number(await text(`#acc-${m}`)), forwardPasses: Number(await text(`#passes-${m}`)), msPerBatch: Number(await text(`#ms-${m}`)), lastBatchMs: Number(await text(`#last-ms-${m}`)) };
  }
  console.log(JSON.stringify(result, null, 2));
  if (screenshot) await page.screenshot({ path: screenshot });
} finally {
  await browser.close();
  server.kill();
}
