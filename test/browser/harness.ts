// Headless Chromium for browser tests and measurements: bundles a page entry with esbuild (ESM, browser
// platform, so "gpu.js" resolves to its browser build), opens a blank page in Debian's chromium through
// playwright-core with WebGL on SwiftShader, and injects the bundle. Null (with the reason) where
// /usr/bin/chromium is missing.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { build } from "esbuild";
import { type Browser, type Page, chromium } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

export interface BrowserPage {
  browser: Browser;
  page: Page;
  /** Messages the page logged (console and uncaught errors). */
  log: string[];
  close(): Promise<void>;
}

/** The entry bundled as one ESM script (gpu.js included). */
export async function bundle(entry: string): Promise<string> {
  const out = await build({
    entryPoints: [resolve(entry)],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "error",
  });
  return out.outputFiles[0].text;
}

/** Opens `entry` in headless Chromium and waits until `readyGlobal` is defined, or null when Chromium is missing. */
export async function openPage(entry: string, readyGlobal: string): Promise<BrowserPage | null> {
  if (!existsSync(CHROMIUM)) {
    console.warn(`[skip] ${CHROMIUM} not found: browser tests need Debian's chromium package (see .ci/run)`);
    return null;
  }
  const code = await bundle(entry);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist"],
  });
  const page = await browser.newPage();
  const log: string[] = [];
  page.on("console", (m) => log.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => log.push(`pageerror: ${e.message}`));
  await page.setContent("<!doctype html><html><body></body></html>");
  await page.addScriptTag({ content: code, type: "module" });
  await page.waitForFunction((name) => name in globalThis, readyGlobal, { timeout: 30_000 });
  return { browser, page, log, close: () => browser.close() };
}
