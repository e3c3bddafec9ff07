// A self-contained SVG line chart (no scripts, no external assets) for the HTML report.
// Data (x, y) maps to pixels linearly: px = left + (x - xMin) / (xMax - xMin) * plotW,
// py = top + (yMax - y) / (yMax - yMin) * plotH (y grows upwards).

export interface ChartSeries {
  name: string;
  color: string;
  points: readonly (readonly [number, number])[];
}

export interface ChartOptions {
  series: readonly ChartSeries[];
  xMin: number;
  xMax: number;
  yMin: number;
  yMax: number;
  /** Vertical guides with a label (e.g. domain boundaries), in data x. */
  xBands?: readonly { from: number; to: number; label: string }[];
  yTicks?: readonly number[];
  yLabel?: string;
  xLabel?: string;
  width?: number;
  height?: number;
  /** Accessible title of the figure. */
  title: string;
}

const MARGIN = { left: 48, right: 120, top: 12, bottom: 64 };

export function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

const fmt = (v: number): string => (Math.round(v * 10) / 10).toString();

/** Pixel position of a data point inside a chart of the given size. */
export function chartPixel(o: Pick<ChartOptions, "xMin" | "xMax" | "yMin" | "yMax" | "width" | "height">, x: number, y: number): [number, number] {
  const W = o.width ?? 760;
  const H = o.height ?? 320;
  const plotW = W - MARGIN.left - MARGIN.right;
  const plotH = H - MARGIN.top - MARGIN.bottom;
  const px = MARGIN.left + ((x - o.xMin) / (o.xMax - o.xMin || 1)) * plotW;
  const py = MARGIN.top + ((o.yMax - y) / (o.yMax - o.yMin || 1)) * plotH;
  return [px, py];
}

/** The chart as an `<svg>` element string. */
export function lineChart(o: ChartOptions): string {
  const W = o.width ?? 760;
  const H = o.height ?? 320;
  const px = (x: number, y: number) => chartPixel(o, x, y);
  const [x0, yTop] = px(o.xMin, o.yMax);
  const [x1, yBottom] = px(o.xMax, o.yMin);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`,
    `<title>${escapeXml(o.title)}</title>`,
    `<rect x="${fmt(x0)}" y="${fmt(yTop)}" width="${fmt(x1 - x0)}" height="${fmt(yBottom - yTop)}" fill="#fafafa" stroke="#999"/>`,
  ];
  (o.xBands ?? []).forEach((b, i) => {
    const [a] = px(b.from, o.yMin);
    const [c] = px(b.to, o.yMin);
    if (i % 2 === 1) parts.push(`<rect x="${fmt(a)}" y="${fmt(yTop)}" width="${fmt(c - a)}" height="${fmt(yBottom - yTop)}" fill="#eef2f7"/>`);
    const mid = (a + c) / 2;
    parts.push(`<text x="${fmt(mid)}" y="${fmt(yBottom + 8)}" font-size="10" text-anchor="end" transform="rotate(-50 ${fmt(mid)} ${fmt(yBottom + 8)})">${escapeXml(b.label)}</text>`);
  });
  for (const t of o.yTicks ?? []) {
    const [, y] = px(o.xMin, t);
    parts.push(`<line x1="${fmt(x0)}" x2="${fmt(x1)}" y1="${fmt(y)}" y2="${fmt(y)}" stroke="#ddd"/>`);
    parts.push(`<text x="${fmt(x0 - 4)}" y="${fmt(y + 3)}" font-size="10" text-anchor="end">${fmt(t)}</text>`);
  }
  if (o.yLabel) {
    const cy = (yTop + yBottom) / 2;
    parts.push(`<text x="12" y="${fmt(cy)}" font-size="11" text-anchor="middle" transform="rotate(-90 12 ${fmt(cy)})">${escapeXml(o.yLabel)}</text>`);
  }
  if (o.xLabel) parts.push(`<text x="${fmt((x0 + x1) / 2)}" y="${H - 4}" font-size="11" text-anchor="middle">${escapeXml(o.xLabel)}</text>`);
  o.series.forEach((s, i) => {
    const pts = s.points.map(([x, y]) => px(x, y).map(fmt).join(",")).join(" ");
    parts.push(`<polyline class="series" data-name="${escapeXml(s.name)}" fill="none" stroke="${s.color}" stroke-width="2" points="${pts}"/>`);
    for (const [x, y] of s.points.length <= 40 ? s.points : []) {
      const [cx, cy] = px(x, y);
      parts.push(`<circle cx="${fmt(cx)}" cy="${fmt(cy)}" r="2.5" fill="${s.color}"/>`);
    }
    const ly = yTop + 14 + 16 * i;
    parts.push(`<line x1="${fmt(x1 + 10)}" x2="${fmt(x1 + 28)}" y1="${fmt(ly - 4)}" y2="${fmt(ly - 4)}" stroke="${s.color}" stroke-width="3"/>`);
    parts.push(`<text x="${fmt(x1 + 32)}" y="${fmt(ly)}" font-size="11">${escapeXml(s.name)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n");
}
