// The browser page end to end: `node tools/build.mjs`, the static server of `npm run web` on a free port, then
// headless Chromium (playwright-core, /usr/bin/chromium, SwiftShader GL) opens web/ with a short stream (2 corruptions
// x 2 batches of 64, demo ResNet-8 W8A8). Every request to another host is aborted and recorded; none may happen.
// Checked: accuracy numbers appear, NoAdapt made one forward pass per batch and ZOA exactly twice as many, the
// bank downloads as a safetensors file whose slots are the ones the page shows and loads back after a reset, and
// no console error occurred. Screenshot: test-output/web-page.png (docs/web-page.png comes from
// tools/measure/web_page.mjs, so running the tests never rewrites a committed file). Skips with a printed reason
// without Chromium or without models/demo_resnet8.safetensors.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSafetensors } from "../../src/io/safetensors.js";

const CHROMIUM = "/usr/bin/chromium";
const MODEL = "models/demo_resnet8.safetensors";
const OUT = resolve("test-output");
const CORRUPTIONS = ["gaussian_noise", "fog"];
const BATCHES = 2;

const missing = !existsSync(CHROMIUM) ? `${CHROMIUM} is missing (CI installs Debian chromium)` : !existsSync(MODEL) ? `${MODEL} is missing` : null;
if (missing) console.warn(`[skip] test/browser/web_page.test.ts: ${missing}`);

/** Starts tools/web_server.mjs on a free port; resolves with its base URL. */
function startServer(): Promise<{ proc: ChildProcess; base: string }> {
  const proc = spawn(process.execPath, ["tools/web_server.mjs", "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolvePromise, reject) => {
    let out = "";
    proc.stdout?.on("data", (d: Buffer) => {
      out += String(d);
      const m = /zoa web: (http:\/\/127\.0\.0\.1:\d+)\/web\//.exec(out);
      if (m) resolvePromise({ proc, base: m[1] });
    });
    proc.on("exit", (code) => reject(new Error(`web server exited with ${code} before listening: ${out}`)));
  });
}

describe.skipIf(missing !== null)("web page in Chromium", () => {
  let server: { proc: ChildProcess; base: string } | null = null;
  let browser: Browser | null = null;

  beforeAll(async () => {
    execFileSync(process.execPath, ["tools/build.mjs"], { stdio: "inherit" });
    server = await startServer();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist"] });
  });

  afterAll(async () => {
    await browser?.close();
    server?.proc.kill();
  });

  it("streams corrupted batches through NoAdapt and ZOA, saves and reloads the bank, with no foreign request", async () => {
    if (!server || !browser) throw new Error("setup failed");
    const host = new URL(server.base).host;
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
    const foreign: string[] = [];
    await context.route("**/*", (route) => {
      const url = new URL(route.request().url());
      if ((url.protocol === "http:" || url.protocol === "https:") && url.host === host) return route.continue();
      foreign.push(route.request().url());
      return route.abort();
    });
    const page = await context.newPage();
    const consoleErrors: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") consoleErrors.push(m.text());
    });
    page.on("pageerror", (e) => consoleErrors.push(`pageerror: ${e.message}`));

    const query = new URLSearchParams({ model: "resnet8", precision: "w8a8", corruptions: CORRUPTIONS.join(","), batches: String(BATCHES), batch: "64", source: "64", autorun: "1" });
    await page.goto(`${server.base}/web/?${query}`);
    await page.waitForSelector('#status[data-state="done"], #status[data-state="error"]', { timeout: 110_000 });
    expect(await page.getAttribute("#status", "data-state"), (await page.textContent("#status")) ?? "").toBe("done");

    const steps = CORRUPTIONS.length * BATCHES;
    const num = async (sel: string): Promise<number> => Number(await page.textContent(sel));
    for (const m of ["none", "zoa"]) {
      const acc = await num(`#acc-${m}`);
      expect(acc).toBeGreaterThanOrEqual(0);
      expect(acc).toBeLessThanOrEqual(100);
    }
    expect(await num("#passes-none")).toBe(steps);
    expect(await num("#passes-zoa")).toBe(2 * (await num("#passes-none")));
    expect(await page.locator("#chart polyline").count()).toBe(2);

    mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: join(OUT, "web-page.png") });

    // Save the bank: a safetensors file whose slots are the ones the page lists.
    const slotsShown = await page.locator("#bank tr.slot").count();
    expect(slotsShown, "ZOA should detect the gaussian_noise -> fog shift and save a slot").toBeGreaterThan(0);
    expect(await page.locator("#detections li").first().textContent()).toMatch(/shift detected/);
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#save-bank")]);
    const bankFile = join(OUT, "zoa-bank.safetensors");
    await download.saveAs(bankFile);
    const meta = JSON.parse(readSafetensors(bankFile).metadata.zoa_bank) as { slots: unknown[] };
    expect(meta.slots.length).toBe(slotsShown);

    // Reset forgets the bank; loading the file brings the slots back.
    await page.click("#reset");
    expect(await page.locator("#bank tr.slot").count()).toBe(0);
    await page.setInputFiles("#load-bank", bankFile);
    await page.waitForFunction((n) => document.querySelectorAll("#bank tr.slot").length === n && document.getElementById("status")?.textContent?.startsWith("bank loaded"), slotsShown);

    expect(foreign).toEqual([]);
    expect(consoleErrors).toEqual([]);
    await context.close();
  });
});
