// The `zoa demo` HTML report in headless Chromium (playwright-core, Debian's /usr/bin/chromium): the page loads
// with no external requests, the accuracy chart (one line per method) and the tables are rendered and visible,
// and a screenshot goes to test-output/demo-report.png. Skips with a printed reason where Chromium is missing.
import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, writeTinyCheckpoints, zoa } from "../helpers/demo_fixture.js";

const CHROMIUM = "/usr/bin/chromium";
const OUT_DIR = resolve("test-output");

let html = "";

beforeAll(() => {
  if (!existsSync(CHROMIUM)) return;
  ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), "zoa-report-"));
  const models = writeTinyCheckpoints(dir);
  html = join(dir, "report.html");
  const r = zoa("demo", "--model", models.resnet, "--quant", "w6a6", "--limit-per-domain", "16", "--batch", "8", "--foa-limit", "8", "--source-n", "16", "--calib-n", "8", "--quiet", "--html", html);
  if (r.status !== 0) throw new Error(`zoa demo failed: ${r.stderr}`);
});

describe("zoa demo HTML report in Chromium", () => {
  it("renders the chart and the tables; screenshot", async () => {
    if (!existsSync(CHROMIUM)) {
      console.warn(`[skip] ${CHROMIUM} not found: the HTML report browser test needs Chromium (CI installs Debian's chromium)`);
      return;
    }
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const external: string[] = [];
      page.on("request", (req) => {
        if (!req.url().startsWith("file:")) external.push(req.url());
      });
      await page.goto(pathToFileURL(html).href);
      const chart = page.locator("svg.chart").first();
      expect(await chart.isVisible()).toBe(true);
      const box = await chart.boundingBox();
      expect(box?.width ?? 0).toBeGreaterThan(300);
      expect(box?.height ?? 0).toBeGreaterThan(150);
      // One line per method, each with 2 points per corruption (16 images in batches of 8; FOA 8 in one batch).
      const lines = page.locator("svg.chart polyline.series");
      expect(await lines.count()).toBe(5);
      const names = await lines.evaluateAll((els) => els.map((e) => e.getAttribute("data-name")));
      expect(names).toEqual(["NoAdapt", "NormAdapt", "T3A", "FOA", "ZOA"]);
      const points = await lines.evaluateAll((els) => els.map((e) => (e.getAttribute("points") ?? "").trim().split(/\s+/).length));
      expect(points).toEqual([30, 30, 30, 15, 30]);
      const pathLengths = await lines.evaluateAll((els) => els.map((e) => (e as SVGPolylineElement).getTotalLength()));
      for (const l of pathLengths) expect(l).toBeGreaterThan(100);
      const table = page.locator("table.accuracy");
      expect(await table.isVisible()).toBe(true);
      expect(await table.locator("tr").count()).toBe(1 + 5);
      expect(await table.locator("tr").nth(5).locator("td").first().textContent()).toBe("ZOA");
      expect(await page.locator("table.cost").isVisible()).toBe(true);
      expect(await page.locator("table.bank").isVisible()).toBe(true);
      expect(external).toEqual([]);
      mkdirSync(OUT_DIR, { recursive: true });
      const shot = join(OUT_DIR, "demo-report.png");
      await page.screenshot({ path: shot, fullPage: true });
      expect(existsSync(shot)).toBe(true);
    } finally {
      await browser.close();
    }
  });
});
