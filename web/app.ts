// The live adaptation page (web/index.html): loads a model (a demo model or the user's safetensors file), quantizes
// it, streams corrupted procedural batches through NoAdapt and ZOA side by side and draws what happens. The work runs
// on the page's thread one batch at a time, with a repaint between batches. Built to dist/web/app.js, which imports
// the library bundle dist/browser/zoa.js.
import { CORRUPTIONS, adapterStateFromBytes, adapterStateToBytes, backendNames, getBackend, runStream, setBackend } from "../src/browser.js";
import { renderChart } from "./chart.js";
import { byId, h, loadScript, nextFrame } from "./dom.js";
import { type Detection, type MethodTally, renderBank, renderDetections, renderMethods } from "./panels.js";
import { type Session, type SessionOptions, createSession } from "./session.js";
import { DEMO_MODELS, type DemoModel, type Settings, parseCorruptions, settingsFromUrl } from "./settings.js";
import { type StreamPlan, streamBatch, streamSteps } from "./stream.js";

const ui = {
  model: byId("model", HTMLSelectElement),
  modelFile: byId("model-file", HTMLInputElement),
  precision: byId("precision", HTMLSelectElement),
  exec: byId("exec", HTMLSelectElement),
  backend: byId("backend", HTMLSelectElement),
  backendInfo: byId("backend-info", HTMLSpanElement),
  sequence: byId("sequence", HTMLInputElement),
  chips: byId("chips", HTMLDivElement),
  batches: byId("batches", HTMLInputElement),
  batchSize: byId("batch-size", HTMLInputElement),
  severity: byId("severity", HTMLInputElement),
  severityOut: byId("severity-out", HTMLOutputElement),
  seed: byId("seed", HTMLInputElement),
  run: byId("run", HTMLButtonElement),
  stop: byId("stop", HTMLButtonElement),
  reset: byId("reset", HTMLButtonElement),
  saveBank: byId("save-bank", HTMLButtonElement),
  loadBank: byId("load-bank", HTMLInputElement),
  status: byId("status", HTMLSpanElement),
  log: byId("log", HTMLPreElement),
  methods: byId("methods", HTMLTableSectionElement),
  bank: byId("bank", HTMLDivElement),
  detections: byId("detections", HTMLUListElement),
};
const chart: SVGSVGElement = (() => {
  const el = document.getElementById("chart");
  if (!(el instanceof SVGSVGElement)) throw new TypeError("page: #chart is missing or not an <svg>");
  return el;
})();

let session: Session | null = null;
let sessionKey = "";
let userModel: { bytes: Uint8Array; name: string } | null = null;
let stopRequested = false;
let sourceImages = 256;

function log(msg: string): void {
  ui.log.textContent += `${msg}\n`;
  ui.log.scrollTop = ui.log.scrollHeight;
}

function setStatus(state: "idle" | "preparing" | "running" | "done" | "stopped" | "error", text: string): void {
  ui.status.dataset.state = state;
  ui.status.textContent = text;
}

/** gpu.js's browser build, copied beside the library bundle by tools/build.mjs; loaded only for the gpujs backend. */
const GPUJS_SCRIPT = "../dist/browser/gpu-browser.min.js";

function applyBackend(): void {
  const b = setBackend(ui.backend.value);
  ui.backendInfo.textContent = `in use: ${b.name} (${b.description})`;
}

function fillControls(s: Settings): void {
  ui.model.value = s.model;
  ui.precision.value = s.precision;
  ui.exec.value = s.exec;
  ui.backend.replaceChildren(...["auto", ...backendNames()].map((n) => h("option", { value: n }, n)));
  ui.backend.value = s.backend || "auto";
  ui.sequence.value = s.corruptions.join(",");
  ui.chips.replaceChildren(
    ...CORRUPTIONS.map((c) => {
      const b = h("button", { type: "button", title: `append ${c}` }, `+ ${c.replace(/_/g, " ")}`);
      b.addEventListener("click", () => (ui.sequence.value = ui.sequence.value ? `${ui.sequence.value},${c}` : c));
      return b;
    }),
  );
  ui.batches.value = String(s.batchesPerDomain);
  ui.batchSize.value = String(s.batchSize);
  ui.severity.value = String(s.severity);
  ui.severityOut.textContent = String(s.severity);
  ui.seed.value = String(s.seed);
  sourceImages = s.sourceImages;
}

function positiveInt(input: HTMLInputElement, name: string): number {
  const n = Number(input.value);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name}: expected a positive integer, got '${input.value}'`);
  return n;
}

function sessionOptions(): SessionOptions {
  const seed = Number(ui.seed.value);
  if (!Number.isInteger(seed) || seed < 0) throw new RangeError(`seed: expected a non-negative integer, got '${ui.seed.value}'`);
  return { precision: ui.precision.value as SessionOptions["precision"], exec: ui.exec.value as SessionOptions["exec"], seed, sourceImages };
}

async function modelBytes(): Promise<{ bytes: Uint8Array; name: string; key: string }> {
  if (ui.model.value === "file") {
    if (!userModel) throw new Error("model: choose a .safetensors file first");
    return { ...userModel, key: `file:${userModel.name}:${userModel.bytes.length}` };
  }
  const url = DEMO_MODELS[ui.model.value as DemoModel];
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} (the demo models live in models/)`);
  return { bytes: new Uint8Array(await res.arrayBuffer()), name: url.split("/").pop() ?? url, key: `demo:${ui.model.value}` };
}

/** The session for the current model controls (reused while they are unchanged, so adaptation continues). */
async function ensureSession(): Promise<Session> {
  const opts = sessionOptions();
  const key = `${ui.model.value === "file" && userModel ? `file:${userModel.name}:${userModel.bytes.length}` : `demo:${ui.model.value}`}|${opts.precision}|${opts.exec}|${opts.seed}|${opts.sourceImages}`;
  if (session && key === sessionKey) return session;
  setStatus("preparing", "loading model...");
  const m = await modelBytes();
  const t0 = performance.now();
  session = await createSession(m.bytes, m.name, opts, log);
  sessionKey = key;
  log(`ready in ${(performance.now() - t0).toFixed(0)} ms`);
  ui.saveBank.disabled = false;
  renderBank(ui.bank, session.zoa);
  return session;
}

function setRunning(on: boolean): void {
  ui.run.disabled = on;
  ui.stop.disabled = !on;
  ui.reset.disabled = on;
  ui.backend.disabled = on;
  ui.loadBank.disabled = on;
  ui.saveBank.disabled = on || !session;
}

async function run(): Promise<void> {
  setRunning(true);
  stopRequested = false;
  try {
    applyBackend();
    const corruptions = parseCorruptions(ui.sequence.value);
    const s = await ensureSession();
    const plan: StreamPlan = { corruptions, batchesPerDomain: positiveInt(ui.batches, "batches per corruption"), batchSize: positiveInt(ui.batchSize, "batch size"), seed: s.zoa.config.seed, imageSize: s.model.imageSize };
    const total = streamSteps(plan);
    const tallies: MethodTally[] = [
      { adapter: s.none, label: "NoAdapt", color: "#7a7f88", right: 0, seen: 0, lastBatch: NaN, lastMs: NaN },
      { adapter: s.zoa, label: "ZOA", color: "#d33", right: 0, seen: 0, lastBatch: NaN, lastMs: NaN },
    ];
    const curves = tallies.map(() => [] as number[]);
    const detections: Detection[] = [];
    const domains = corruptions.map((name, i) => ({ name, start: i * plan.batchesPerDomain }));
    let shifts = s.zoa.shifts;
    const draw = (): void => {
      renderChart(chart, { steps: total, series: tallies.map((t, i) => ({ name: t.label, color: t.color, values: curves[i] })), domains, detections: detections.map((d) => d.step) });
      renderMethods(ui.methods, tallies);
      renderBank(ui.bank, s.zoa);
      renderDetections(ui.detections, detections);
    };
    draw();
    log(`stream: ${corruptions.join(" -> ")}, ${plan.batchesPerDomain} x ${plan.batchSize} images each, backend ${getBackend().name}`);
    for (let step = 0; step < total && !stopRequested; step++) {
      const severity = Number(ui.severity.value);
      const batch = streamBatch(plan, step, severity);
      const before = tallies.map((t) => t.adapter.stats().seconds);
      const report = runStream(tallies.map((t) => t.adapter), [batch]);
      tallies.forEach((t, i) => {
        const acc = report.methods[t.adapter.name].curve[0];
        t.right += Math.round((acc * batch.count) / 100);
        t.seen += batch.count;
        t.lastBatch = acc;
        t.lastMs = 1000 * (t.adapter.stats().seconds - before[i]);
        curves[i].push((100 * t.right) / t.seen);
      });
      if (s.zoa.shifts > shifts) {
        detections.push({ step, domain: batch.domain });
        shifts = s.zoa.shifts;
      }
      draw();
      setStatus("running", `batch ${step + 1} / ${total}: ${batch.domain}, severity ${severity}`);
      await nextFrame();
    }
    const summary = tallies.map((t) => `${t.label} ${((100 * t.right) / Math.max(1, t.seen)).toFixed(1)}%`).join(", ");
    log(`${stopRequested ? "stopped" : "done"}: ${summary}`);
    setStatus(stopRequested ? "stopped" : "done", `${stopRequested ? "stopped" : "done"}: ${summary}`);
  } catch (e) {
    setStatus("error", (e as Error).message);
    log(`error: ${(e as Error).message}`);
    console.error(e);
  } finally {
    setRunning(false);
  }
}

function saveBank(): void {
  if (!session) return;
  const bytes = adapterStateToBytes(session.zoa.save());
  const url = URL.createObjectURL(new Blob([Uint8Array.from(bytes)], { type: "application/octet-stream" }));
  const a = h("a", { href: url, download: `zoa-bank-${session.model.name}.safetensors` });
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  log(`bank saved: ${session.zoa.bank.slots.length} slots, ${bytes.length} bytes`);
}

async function loadBank(file: File): Promise<void> {
  try {
    const s = await ensureSession();
    s.zoa.load(adapterStateFromBytes(new Uint8Array(await file.arrayBuffer()), file.name));
    renderBank(ui.bank, s.zoa);
    log(`bank loaded from ${file.name}: ${s.zoa.bank.slots.length} slots, ${s.zoa.shifts} shifts`);
    setStatus("idle", `bank loaded (${s.zoa.bank.slots.length} slots)`);
  } catch (e) {
    setStatus("error", (e as Error).message); // the parser's message names the file
    console.error(e);
  }
}

ui.run.addEventListener("click", () => void run());
ui.stop.addEventListener("click", () => (stopRequested = true));
ui.reset.addEventListener("click", () => {
  if (!session) return;
  session.none.reset();
  session.zoa.reset();
  renderBank(ui.bank, session.zoa);
  log("adapters reset to the source model");
});
ui.saveBank.addEventListener("click", saveBank);
ui.loadBank.addEventListener("change", () => {
  const f = ui.loadBank.files?.[0];
  if (f) void loadBank(f);
  ui.loadBank.value = "";
});
ui.modelFile.addEventListener("change", async () => {
  const f = ui.modelFile.files?.[0];
  if (!f) return;
  userModel = { bytes: new Uint8Array(await f.arrayBuffer()), name: f.name };
  ui.model.value = "file";
  log(`model file ${f.name} (${f.size} bytes) selected`);
});
ui.severity.addEventListener("input", () => (ui.severityOut.textContent = ui.severity.value));
ui.backend.addEventListener("change", () => {
  try {
    applyBackend();
  } catch (e) {
    setStatus("error", (e as Error).message);
  }
});

/** Reads the URL, loads gpu.js when the library has the gpujs backend, selects the backend ("auto": gpujs on a
 * hardware GPU, else WebAssembly SIMD). */
async function init(): Promise<void> {
  try {
    const settings = settingsFromUrl(location.search);
    fillControls(settings);
    if (backendNames().includes("gpujs")) {
      setStatus("preparing", "loading gpu.js...");
      await loadScript(GPUJS_SCRIPT);
    }
    applyBackend();
    setStatus("idle", "idle: press Run");
    if (settings.autorun) await run();
  } catch (e) {
    setStatus("error", (e as Error).message);
    console.error(e);
  }
}

void init();
