// Runs adapters side by side over one continual stream (predict-then-adapt) and tallies top-1 per method,
// round and domain, plus forward passes, time and adapter memory.
import { normalizeBatch } from "../data/cifar_format.js";
import type { StreamBatch } from "../data/stream.js";
import { argmax } from "../tensor/ops/reduce.js";
import type { Tensor } from "../tensor/tensor.js";
import type { Adapter } from "./adapter.js";

export interface MethodResult {
  /** Top-1 % per domain over all rounds. */
  perDomain: Record<string, number>;
  /** Mean of perDomain. */
  mean: number;
  forwardPassesPerBatch: number;
  msPerBatch: number;
  adapterBytes: number;
  /** Mean over domains of each round's top-1. */
  rounds: number[];
  /** Top-1 % per round and domain. */
  perRoundDomain: Record<string, number>[];
  /** Running accuracy after each batch (for charts). */
  curve: number[];
  extra: Record<string, number>;
}

export interface RunReport {
  methods: Record<string, MethodResult>;
  batches: number;
  images: number;
}

interface Tally {
  correct: Map<string, number>; // key `${round}|${domain}`
  total: Map<string, number>;
  curve: number[];
  seen: number;
  right: number;
}

export interface RunOptions {
  /** Called after every batch (progress bars). */
  onBatch?: (b: StreamBatch, accuracies: Record<string, number>) => void;
}

export function runStream(adapters: readonly Adapter[], stream: Iterable<StreamBatch>, opts: RunOptions = {}): RunReport {
  const tallies = new Map<string, Tally>(adapters.map((a) => [a.name, { correct: new Map(), total: new Map(), curve: [], seen: 0, right: 0 }]));
  let batches = 0;
  let images = 0;
  const domains: string[] = [];
  let rounds = 0;
  for (const b of stream) {
    batches++;
    images += b.count;
    if (!domains.includes(b.domain)) domains.push(b.domain);
    rounds = Math.max(rounds, b.round + 1);
    const key = `${b.round}|${b.domain}`;
    const acc: Record<string, number> = {};
    // Adapters usually share one model: normalise the batch once per distinct mean/std, not once per adapter.
    const inputs = new Map<string, Tensor>();
    const set = { images: b.images, labels: b.labels, count: b.count, channels: b.channels, height: b.height, width: b.width };
    for (const a of adapters) {
      const { mean, std } = a.predictor.model;
      const normKey = `${mean.join(",")}|${std.join(",")}`;
      let x = inputs.get(normKey);
      if (!x) {
        x = normalizeBatch(set, 0, b.count, mean, std);
        inputs.set(normKey, x);
      }
      const pred = argmax(a.forward(x), 1);
      let right = 0;
      for (let i = 0; i < b.count; i++) if (pred[i] === b.labels[i]) right++;
      const t = tallies.get(a.name)!;
      t.correct.set(key, (t.correct.get(key) ?? 0) + right);
      t.total.set(key, (t.total.get(key) ?? 0) + b.count);
      t.seen += b.count;
      t.right += right;
      t.curve.push((100 * t.right) / t.seen);
      acc[a.name] = (100 * (t.correct.get(key) ?? 0)) / (t.total.get(key) ?? 1);
    }
    opts.onBatch?.(b, acc);
  }
  const methods: Record<string, MethodResult> = {};
  for (const a of adapters) {
    const t = tallies.get(a.name)!;
    const perDomain: Record<string, number> = {};
    for (const d of domains) {
      let c = 0;
      let n = 0;
      for (let r = 0; r < rounds; r++) {
        c += t.correct.get(`${r}|${d}`) ?? 0;
        n += t.total.get(`${r}|${d}`) ?? 0;
      }
      perDomain[d] = n ? (100 * c) / n : 0;
    }
    const perRoundDomain = Array.from({ length: rounds }, (_, r) =>
      Object.fromEntries(domains.map((d) => [d, (100 * (t.correct.get(`${r}|${d}`) ?? 0)) / (t.total.get(`${r}|${d}`) || 1)])),
    );
    const s = a.stats();
    const mean = (o: Record<string, number>) => Object.values(o).reduce((x, y) => x + y, 0) / Math.max(1, Object.keys(o).length);
    methods[a.name] = {
      perDomain,
      mean: mean(perDomain),
      forwardPassesPerBatch: s.batches ? s.forwardPasses / s.batches : 0,
      msPerBatch: s.batches ? (1000 * s.seconds) / s.batches : 0,
      adapterBytes: s.adapterBytes,
      rounds: perRoundDomain.map(mean),
      perRoundDomain,
      curve: t.curve,
      extra: s.extra,
    };
  }
  return { methods, batches, images };
}
