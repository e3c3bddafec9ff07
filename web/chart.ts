// The accuracy chart: running top-1 (%) of every method after each batch, as SVG polylines over the step axis,
// with the corruption domains as alternating bands and ZOA's shift detections as dashed vertical lines.
// x(step) = left + (step + 0.5) / steps * plotWidth;  y(acc) = top + (1 - acc / 100) * plotHeight.
import { svg } from "./dom.js";

export interface Series {
  name: string;
  color: string;
  /** Running accuracy %, one value per finished step. */
  values: readonly number[];
}

export interface ChartData {
  /** Planned steps (the x range). */
  steps: number;
  series: readonly Series[];
  /** Domain names and first steps, in stream order. */
  domains: readonly { name: string; start: number }[];
  /** Steps at which ZOA detected a domain shift. */
  detections: readonly number[];
}

const W = 720;
const H = 300;
const PAD = { left: 40, right: 12, top: 12, bottom: 40 };

export function renderChart(root: SVGSVGElement, d: ChartData): void {
  root.replaceChildren();
  root.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const pw = W - PAD.left - PAD.right;
  const ph = H - PAD.top - PAD.bottom;
  const steps = Math.max(1, d.steps);
  const x = (s: number): number => PAD.left + ((s + 0.5) / steps) * pw;
  const xEdge = (s: number): number => PAD.left + (s / steps) * pw;
  const y = (acc: number): number => PAD.top + (1 - acc / 100) * ph;
  d.domains.forEach((dom, i) => {
    const end = i + 1 < d.domains.length ? d.domains[i + 1].start : steps;
    const x0 = xEdge(dom.start);
    const x1 = xEdge(end);
    root.append(svg("rect", { x: x0, y: PAD.top, width: Math.max(0, x1 - x0), height: ph, class: i % 2 ? "band odd" : "band" }));
    const label = svg("text", { x: (x0 + x1) / 2, y: H - PAD.bottom + 14, class: "domain", "text-anchor": "middle" }, dom.name.replace(/_/g, " "));
    root.append(label);
  });
  for (const v of [0, 25, 50, 75, 100]) {
    root.append(svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: "grid" }));
    root.append(svg("text", { x: PAD.left - 6, y: y(v) + 4, class: "tick", "text-anchor": "end" }, String(v)));
  }
  for (const s of d.detections) root.append(svg("line", { x1: xEdge(s), x2: xEdge(s), y1: PAD.top, y2: PAD.top + ph, class: "detection" }));
  d.series.forEach((s, i) => {
    if (s.values.length === 0) return;
    const pts = s.values.map((v, k) => `${x(k).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    root.append(svg("polyline", { points: pts, fill: "none", stroke: s.color, "stroke-width": 2 }));
    const last = s.values.length - 1;
    root.append(svg("circle", { cx: x(last), cy: y(s.values[last]), r: 3, fill: s.color }));
    root.append(svg("text", { x: PAD.left + 8 + i * 110, y: H - 8, fill: s.color, class: "legend" }, `${s.name} ${s.values[last].toFixed(1)}%`));
  });
  root.append(svg("text", { x: W - PAD.right, y: H - 8, class: "tick", "text-anchor": "end" }, "running top-1 %  |  dashed: ZOA shift detected"));
}
