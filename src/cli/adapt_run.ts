// What `zoa adapt` and `zoa demo` share: the method list, the adapters built over one prepared model, one pass
// over a continual stream with a progress bar per domain on stderr, and the JSON object of one run
// ({...meta, methods: {<name>: MethodResult without the per-batch curve}}).
import type { StreamBatch, StreamOptions, StreamSource } from "../data/stream.js";
import { continualStream, streamLength } from "../data/stream.js";
import type { Adapter } from "../zoa/adapter.js";
import { type MethodContext, availableMethods, createAdapter } from "../zoa/methods.js";
import { type MethodResult, type RunReport, runStream } from "../zoa/runner.js";
import { UsageError } from "./args.js";
import { Progress } from "./progress.js";

/** The run description printed above the table and spread into the JSON object (same keys for adapt and demo). */
export type AdaptMeta = {
  model: string;
  precision: string;
  severity: number;
  rounds: number;
  batch: number;
  seed: number;
  zoaVariant: string;
  limitPerDomain: number | null;
  images: number;
};

/** `zoa adapt --json` / `zoa demo --json`: one object per run. */
export type AdaptJson = AdaptMeta & { methods: Record<string, Omit<MethodResult, "curve">> };

/** "none,norm,zoa" -> ["none", "norm", "zoa"]; unknown or repeated names are UsageErrors. */
export function parseMethods(command: string, text: string): string[] {
  const methods = text.split(",").map((m) => m.trim()).filter(Boolean);
  if (methods.length === 0) throw new UsageError(`zoa ${command}: --methods is empty`);
  for (const m of methods) {
    if (!availableMethods().includes(m as never)) throw new UsageError(`zoa ${command}: unknown method '${m}' (available: ${availableMethods().join(", ")})`);
  }
  if (new Set(methods).size !== methods.length) throw new UsageError(`zoa ${command}: a method is listed twice`);
  return methods;
}

export function createAdapters(methods: readonly string[], ctx: MethodContext): Adapter[] {
  return methods.map((m) => createAdapter(m, ctx));
}

export interface StreamRunOptions {
  source: StreamSource;
  stream: StreamOptions;
  /** Images per domain in the source (before limitPerDomain). */
  perDomain: number;
  quiet: boolean;
  /** Prefix of the progress bars (e.g. "resnet8 w6a6"). */
  label?: string;
  /** Called after every batch, after the progress bar. */
  onBatch?: (b: StreamBatch, accuracies: Record<string, number>) => void;
}

/** Runs the adapters side by side over the stream (predict, then adapt) with one progress bar per domain. */
export function runWithProgress(adapters: readonly Adapter[], o: StreamRunOptions): RunReport {
  const rounds = o.stream.rounds ?? 1;
  const domains = o.stream.corruptions?.length ?? 15;
  const perDomainBatches = streamLength(o.perDomain, o.stream) / (rounds * domains);
  const prefix = o.label ? `${o.label} ` : "";
  let bar: Progress | null = null;
  let current = "";
  return runStream(adapters, continualStream(o.source, o.stream), {
    onBatch: (b, acc) => {
      const key = `${b.round}|${b.domain}`;
      if (key !== current) {
        current = key;
        bar = new Progress(`${prefix}r${b.round + 1} ${b.domain.padEnd(17)}`, perDomainBatches, !o.quiet);
      }
      bar?.update(b.index + 1, Object.entries(acc).map(([k, v]) => `${k} ${v.toFixed(1)}`).join("  "));
      o.onBatch?.(b, acc);
    },
  });
}

/** The JSON object of one run: the meta fields, then every method's result without the per-batch curve. */
export function adaptJson(meta: AdaptMeta, report: RunReport): AdaptJson {
  const methods = Object.fromEntries(
    Object.entries(report.methods).map(([k, m]) => {
      const { curve: _curve, ...rest } = m;
      return [k, rest];
    }),
  );
  return { ...meta, methods };
}
