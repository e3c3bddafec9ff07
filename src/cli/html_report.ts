// The HTML report of `zoa demo`: one self-contained page (inline CSS and SVG, no scripts, no external assets)
// with, per run, the accuracy of every method along the stream, the top-1 table, the cost of each method
// (forward passes and milliseconds per batch, adapter memory) and ZOA's knowledge bank (slots, fusion weights).
import { CORRUPTIONS } from "../data/corruptions/index.js";
import type { DemoRun } from "./demo_run.js";
import { reportRows } from "./report.js";
import { escapeXml as esc, lineChart } from "./svg_chart.js";

export interface ReportInfo {
  command: string;
  /** e.g. "2 x AMD EPYC, load average 3.1". */
  machine: string;
  data: string;
  seconds: number;
  generatedAt: string;
}

const COLORS: Record<string, string> = { none: "#777777", norm: "#1f77b4", t3a: "#ff7f0e", foa: "#9467bd", zoa: "#2ca02c", tent: "#d62728" };
const NAMES: Record<string, string> = { none: "NoAdapt", norm: "NormAdapt", t3a: "T3A", foa: "FOA", zoa: "ZOA", tent: "TENT" };

const SHORT: Record<string, string> = {
  gaussian_noise: "gauss", shot_noise: "shot", impulse_noise: "impulse", defocus_blur: "defocus", glass_blur: "glass",
  motion_blur: "motion", zoom_blur: "zoom", snow: "snow", frost: "frost", fog: "fog", brightness: "bright",
  contrast: "contrast", elastic_transform: "elastic", pixelate: "pixelate", jpeg_compression: "jpeg",
};

const CSS = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1100px; color: #222; padding: 0 16px; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 36px; border-bottom: 1px solid #ccc; } h3 { font-size: 15px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: right; } th:first-child, td:first-child { text-align: left; }
th { background: #f0f0f0; } .best { font-weight: bold; } .meta, .note { color: #555; } .wide { overflow-x: auto; }
table.accuracy { font-size: 12px; } table.accuracy th, table.accuracy td { padding: 2px 4px; }
.bar { display: inline-block; height: 10px; background: #9ab; vertical-align: middle; margin-right: 6px; }
`;

function table(header: readonly string[], body: readonly string[][], cls = ""): string {
  const head = `<tr>${header.map((h) => `<th>${esc(h)}</th>`).join("")}</tr>`;
  const rows = body.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("\n");
  return `<div class="wide"><table${cls ? ` class="${cls}"` : ""}>\n${head}\n${rows}\n</table></div>`;
}

function accuracyChart(run: DemoRun): string {
  const series = Object.entries(run.series).map(([name, points]) => ({ name: NAMES[name] ?? name, color: COLORS[name] ?? "#000", points }));
  return lineChart({
    title: `${run.spec.label}: top-1 within each corruption along the stream`,
    series,
    xMin: 0,
    xMax: CORRUPTIONS.length,
    yMin: 0,
    yMax: 100,
    yTicks: [0, 20, 40, 60, 80, 100],
    yLabel: "top-1 % in the corruption so far",
    xLabel: "continual stream (severity " + run.meta.severity + ")",
    xBands: CORRUPTIONS.map((c, i) => ({ from: i, to: i + 1, label: SHORT[c] ?? c })),
  });
}

function accuracyTable(run: DemoRun): string {
  const { header, body } = reportRows(run.report);
  const meanCol = header.indexOf("mean");
  const best = Math.max(...body.map((r) => Number(r[meanCol])));
  const cells = body.map((r) => r.map((c, i) => (i === meanCol && Number(c) === best ? `<span class="best">${esc(c)}</span>` : esc(i === 0 ? (NAMES[c] ?? c) : c))));
  return table(header, cells, "accuracy");
}

function costTable(run: DemoRun): string {
  const entries = Object.entries(run.report.methods);
  const maxMs = Math.max(1e-9, ...entries.map(([, m]) => m.msPerBatch));
  const body = entries.map(([name, m]) => {
    const images = m.extra.imagesPerDomain ?? run.meta.limitPerDomain ?? 0;
    const batch = m.extra.batch ?? run.meta.batch;
    return [
      esc(NAMES[name] ?? name),
      m.forwardPassesPerBatch.toFixed(2),
      `<span class="bar" style="width:${Math.max(1, Math.round((120 * m.msPerBatch) / maxMs))}px"></span>${m.msPerBatch.toFixed(0)}`,
      (m.msPerBatch / batch).toFixed(2),
      (m.adapterBytes / 1024).toFixed(1),
      `${images} (batch ${batch})`,
    ];
  });
  return table(["method", "forward passes / batch", "ms / batch", "ms / image", "adapter memory (KiB)", "images per corruption"], body, "cost");
}

function zoaSection(run: DemoRun): string {
  const z = run.zoa;
  if (!z) return "";
  const ids = ["source", ...z.slots.map((s) => String(s.id))];
  const label = (id: string) => {
    if (id === "source") return "source (Δ = 0)";
    const s = z.slots.find((x) => String(x.id) === id)!;
    return `slot ${id}: learned on ${SHORT[s.learnedOn] ?? s.learnedOn}, saved at batch ${s.savedAt}`;
  };
  const cell = (w: number | undefined) =>
    w === undefined ? "" : `<span title="${w.toFixed(4)}" style="display:block;background:rgba(44,160,44,${Math.min(1, w).toFixed(3)})">${w.toFixed(2)}</span>`;
  const body = ids.map((id) => [esc(label(id)), ...z.atDomainEnd.map((d) => cell(d.weights[id]))]);
  const last = z.atDomainEnd[z.atDomainEnd.length - 1];
  const summary = `${z.slots.length} slot(s) saved, ${z.shifts} shift(s) detected; fused parameters after the last batch: ${ids
    .filter((id) => last && last.weights[id] !== undefined)
    .map((id) => `${id} ${(last.weights[id] ?? 0).toFixed(2)}`)
    .join(", ")}`;
  return [
    `<h3>ZOA knowledge bank</h3>`,
    `<p class="note">Fusion weights softmax(10 α) of the source and every saved slot, at the end of each corruption (rows: slots; columns: corruptions). ${esc(summary)}.</p>`,
    table(["slot", ...z.atDomainEnd.map((d) => SHORT[d.domain] ?? d.domain)], body, "bank"),
  ].join("\n");
}

function runSection(run: DemoRun): string {
  const m = run.meta;
  const none = run.report.methods.none;
  const zoa = run.report.methods.zoa;
  const headline = none && zoa ? `<p><b>ZOA ${zoa.mean.toFixed(2)}% vs NoAdapt ${none.mean.toFixed(2)}% (${(zoa.mean - none.mean >= 0 ? "+" : "") + (zoa.mean - none.mean).toFixed(2)} points)</b></p>` : "";
  return [
    `<section class="run">`,
    `<h2>${esc(run.spec.label)}</h2>`,
    `<p class="meta">model ${esc(m.model)} (${esc(run.kind)}), ${esc(m.precision)}; severity ${m.severity}, batch ${m.batch}, seed ${m.seed}, ${m.limitPerDomain} images per corruption, ${m.images} images; ${run.seconds.toFixed(1)} s</p>`,
    headline,
    `<h3>Accuracy along the stream</h3>`,
    accuracyChart(run),
    `<h3>Top-1 % per corruption (predict, then adapt)</h3>`,
    accuracyTable(run),
    `<h3>Cost</h3>`,
    costTable(run),
    zoaSection(run),
    ...run.notes.map((n) => `<p class="note">Note: ${esc(n)}.</p>`),
    `</section>`,
  ].join("\n");
}

export function demoHtml(runs: readonly DemoRun[], info: ReportInfo): string {
  return [
    "<!DOCTYPE html>",
    `<html lang="en"><head><meta charset="utf-8"><title>zoa demo report</title><style>${CSS}</style></head><body>`,
    `<h1>zoa demo: quantized models on a stream of corrupted images</h1>`,
    `<p>Every method predicts each batch before adapting on it (online, unlabeled). NoAdapt is the deployed quantized model; NormAdapt uses the batch's BatchNorm statistics; T3A adjusts the classifier with prototypes; FOA searches an input prompt with CMA-ES (forward passes only); ZOA adapts the normalisation layers with two forward passes per batch and keeps a bank of what it learned per domain.</p>`,
    `<p class="meta">${esc(info.command)}<br>data: ${esc(info.data)}<br>machine: ${esc(info.machine)}; total ${info.seconds.toFixed(1)} s; ${esc(info.generatedAt)}</p>`,
    ...runs.map(runSection),
    "</body></html>",
    "",
  ].join("\n");
}
