// The page's tables: per-method accuracy, forward passes and time; ZOA's knowledge bank (slots and their fusion
// weights softmax(s * alpha)); the list of detected domain shifts.
import type { Adapter, Zoa } from "../src/browser.js";
import { h } from "./dom.js";

export interface MethodTally {
  adapter: Adapter;
  label: string;
  color: string;
  /** Correct predictions and images so far in this stream. */
  right: number;
  seen: number;
  /** Top-1 % of the last batch. */
  lastBatch: number;
  /** Milliseconds of the last batch. */
  lastMs: number;
}

const pct = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : "-");

export function renderMethods(tbody: HTMLElement, tallies: readonly MethodTally[]): void {
  tbody.replaceChildren(
    ...tallies.map((t) => {
      const s = t.adapter.stats();
      const id = t.adapter.name;
      return h(
        "tr",
        { "data-method": id },
        h("td", {}, h("span", { class: "swatch", style: `background:${t.color}` }), t.label),
        h("td", { class: "num", id: `acc-${id}` }, pct(t.seen ? (100 * t.right) / t.seen : NaN)),
        h("td", { class: "num" }, pct(t.lastBatch)),
        h("td", { class: "num", id: `passes-${id}` }, s.forwardPasses),
        h("td", { class: "num" }, s.batches ? (s.forwardPasses / s.batches).toFixed(2) : "-"),
        h("td", { class: "num", id: `ms-${id}` }, s.batches ? ((1000 * s.seconds) / s.batches).toFixed(1) : "-"),
        h("td", { class: "num", id: `last-ms-${id}` }, Number.isFinite(t.lastMs) ? t.lastMs.toFixed(1) : "-"),
        h("td", { class: "num" }, (s.adapterBytes / 1024).toFixed(1)),
      );
    }),
  );
}

export function renderBank(root: HTMLElement, zoa: Zoa): void {
  const w = zoa.bank.weights();
  const rows = [h("tr", {}, h("td", {}, "source"), h("td", {}, "-"), weightCell(w[0]))];
  zoa.bank.slots.forEach((slot, j) => rows.push(h("tr", { class: "slot" }, h("td", {}, `slot ${slot.id}`), h("td", { class: "num" }, slot.createdAt), weightCell(w[j + 1]))));
  const s = zoa.stats().extra;
  root.replaceChildren(
    h("p", {}, `${zoa.bank.slots.length} / ${s.capacity} slots, ${zoa.shifts} shifts detected, ${s.removed} removed, ${(s.slotBytes / 1024).toFixed(1)} KiB per slot, ${zoa.bank.tildeSize} adapted scalars`),
    h("table", { class: "bank" }, h("tr", {}, h("th", {}, "entry"), h("th", {}, "saved at batch"), h("th", {}, "fusion weight")), ...rows),
  );
}

function weightCell(v: number): HTMLElement {
  const bar = h("span", { class: "bar", style: `width:${Math.round(100 * v)}px` });
  return h("td", {}, bar, ` ${v.toFixed(3)}`);
}

export interface Detection {
  step: number;
  domain: string;
}

export function renderDetections(list: HTMLElement, detections: readonly Detection[]): void {
  list.replaceChildren(...(detections.length ? detections.map((d) => h("li", {}, `batch ${d.step}: shift detected (now in ${d.domain})`)) : [h("li", {}, "none yet")]));
}
