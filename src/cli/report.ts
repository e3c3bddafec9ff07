// Readable tables of a RunReport: terminal text and Markdown.
import type { RunReport } from "../zoa/runner.js";

const SHORT: Record<string, string> = {
  gaussian_noise: "gauss", shot_noise: "shot", impulse_noise: "impul", defocus_blur: "defoc", glass_blur: "glass",
  motion_blur: "motn", zoom_blur: "zoom", snow: "snow", frost: "frost", fog: "fog", brightness: "brit",
  contrast: "contr", elastic_transform: "elast", pixelate: "pixel", jpeg_compression: "jpeg",
};

/** The table of a RunReport as cells: one row per method (terminal, Markdown and HTML reports). */
export function reportRows(r: RunReport): { header: string[]; body: string[][] } {
  const names = Object.keys(r.methods);
  const domains = names.length ? Object.keys(r.methods[names[0]].perDomain) : [];
  const header = ["method", ...domains.map((d) => SHORT[d] ?? d), "mean", "rounds", "fwd/batch", "ms/batch", "adapter KiB"];
  const body = names.map((n) => {
    const m = r.methods[n];
    return [
      n,
      ...domains.map((d) => m.perDomain[d].toFixed(2)),
      m.mean.toFixed(2),
      m.rounds.map((x) => x.toFixed(2)).join("/"),
      m.forwardPassesPerBatch.toFixed(2),
      m.msPerBatch.toFixed(0),
      (m.adapterBytes / 1024).toFixed(1),
    ];
  });
  return { header, body };
}

export function reportTable(r: RunReport, meta: Record<string, unknown>): string {
  const { header, body } = reportRows(r);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  const extras = Object.entries(r.methods)
    .filter(([, m]) => Object.keys(m.extra).length)
    .map(([n, m]) => `${n}: ${Object.entries(m.extra).map(([k, v]) => `${k} ${v}`).join(", ")}`);
  return [
    `top-1 % (predict-then-adapt), ${r.images} images in ${r.batches} batches; ${Object.entries(meta).map(([k, v]) => `${k} ${v}`).join(", ")}`,
    line(header),
    ...body.map(line),
    ...extras,
  ].join("\n");
}

export function reportMarkdown(r: RunReport, meta: Record<string, unknown>): string {
  const { header, body } = reportRows(r);
  const md = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [
    "# zoa adapt report",
    "",
    ...Object.entries(meta).map(([k, v]) => `- ${k}: ${v}`),
    "",
    md(header),
    md(header.map(() => "---")),
    ...body.map(md),
    "",
    ...Object.entries(r.methods).map(([n, m]) => `- ${n}: ${Object.entries(m.extra).map(([k, v]) => `${k} ${v}`).join(", ") || "-"}`),
    "",
  ].join("\n");
}
