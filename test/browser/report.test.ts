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
import { timeLimit } from "../helpers/slow_backend.js";

const CHROMIUM = "/usr/bin/chromium";
const OUT_DIR = resolve("test-output");

let html = "";

beforeAll(() => {
  if (!existsSync(CHROMIUM)) return;
  ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), "zoa-report-"));
  const models = writeTinyCheckpoints(dir);
  html = join(dir, "report.html");
  // One batch of 64 per corruption, so ZOA's shift detector (full batches of 64) saves bank slots.
  const r = zoa("demo", "--model", models.resnet, "--quant", "w6a6", "--limit-per-domain", "64", "--foa-limit", "4", "--source-n", "64", "--calib-n", "8", "--quiet", "--html", html);
  if (r.status !== 0) throw new Error(`zoa demo failed: ${r.stderr}`);
}, timeLimit(300_000));

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
      // One line per method, each with one point per corruption (one batch each).
      const lines = page.locator("svg.chart polyline.series");
      expect(await lines.count()).toBe(5);
      const names = await lines.evaluateAll((els) => els.map((e) => e.getAttribute("data-name")));
      expect(names).toEqual(["NoAdapt", "NormAdapt", "T3A", "FOA", "ZOA"]);
      const points = await lines.evaluateAll((els) => els.map((e) => (e.getAttribute("points") ?? "").trim().split(/\s+/).length));
      expect(points).toEqual([15, 15, 15, 15, 15]);
      const pathLengths = await lines.evaluateAll((els) => els.map((e) => (e as SVGPolylineElement).getTotalLength()));
      for (const l of pathLengths) expect(l).toBeGreaterThan(100);
      const table = page.locator("table.accuracy");
      expect(await table.isVisible()).toBe(true);
      expect(await table.locator("tr").count()).toBe(1 + 5);
      expect(await table.locator("tr").nth(5).locator("td").first().textContent()).toBe("ZOA");
      expect(await page.locator("table.cost").isVisible()).toBe(true);
      const bank = page.locator("table.bank");
      expect(await bank.isVisible()).toBe(true);
      // Rows: the source, then every saved slot; a slot saved at batch t (= corruption t here) has a fusion weight
      // from column t on and none before.
      const rows = await bank.locator("tr").evaluateAll((trs) => trs.slice(1).map((tr) => Array.from(tr.querySelectorAll("td"), (td) => td.textContent ?? "")));
      expect(rows.length).toBeGreaterThanOrEqual(2);
      expect(rows[0][0]).toMatch(/^source/);
      expect(rows[0].slice(1).every((c) => c !== "")).toBe(true);
      for (const row of rows.slice(1)) {
        const t = Number(/saved at batch (\d+)/.exec(row[0])?.[1]);
        expect(Number.isInteger(t)).toBe(true);
        row.slice(1).forEach((cell, i) => expect(cell === "", `${row[0]}, column ${i}`).toBe(i < t));
      }
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
