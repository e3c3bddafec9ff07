// Timing for the peer benches: warm-up, then RUNS samples of REPS calls each, recording wall time and the
// process's CPU time (user + system, all threads). On a shared, loaded machine a preempting neighbour inflates
// wall time but not CPU time, so single-thread rates are taken from CPU time; multi-thread ones (CPU time
// sums the threads) from wall time. Calls may return a promise (onnxruntime-node's run), which is awaited.

export interface Timing {
  /** Median milliseconds per call, wall clock. */
  wallMs: number;
  /** Median milliseconds per call, process CPU time. */
  cpuMs: number;
  runs: number;
  /** Calls per sample. */
  reps: number;
  /** Process CPU ms per call of each sample, in sample order (sample i of every call ran in the same round). */
  cpuRuns: number[];
}

export interface MeasureOptions {
  runs?: number;
  /** Warm-up: at least this long and at least `warmupCalls` calls. */
  warmupMs?: number;
  warmupCalls?: number;
  /** Repeat the call within a sample until the sample lasts this long (wall). */
  minSampleMs?: number;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
}

async function once(call: () => unknown): Promise<void> {
  const r = call();
  if (r instanceof Promise) await r;
}

/** Warm-up (V8 tiers wasm up in the background; tfjs-wasm and onnxruntime fill their caches on first calls); returns the fastest call's ms. */
async function warmUp(call: () => unknown, warmupMs: number, warmupCalls: number): Promise<number> {
  let calls = 0;
  let fastest = Infinity;
  for (const t0 = performance.now(); calls < warmupCalls || performance.now() - t0 < warmupMs; calls++) {
    const t1 = performance.now();
    await once(call);
    fastest = Math.min(fastest, performance.now() - t1);
  }
  return fastest;
}

async function sample(call: () => unknown, reps: number): Promise<{ wall: number; cpu: number }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let r = 0; r < reps; r++) await once(call);
  return { cpu: cpuMs(c0) / reps, wall: (performance.now() - t0) / reps };
}

export async function measure(call: () => unknown, opts: MeasureOptions = {}): Promise<Timing> {
  return (await measureInterleaved({ call }, opts)).call;
}

/**
 * Times several calls in turn within each sample round (a, b, c, a, b, c, ...), so a change of load on a
 * shared machine hits all of them alike and their ratios stay meaningful (pairedRatio takes them round by round).
 */
export async function measureInterleaved<K extends string>(calls: Record<K, () => unknown>, opts: MeasureOptions = {}): Promise<Record<K, Timing>> {
  const runs = opts.runs ?? 5;
  const minSampleMs = opts.minSampleMs ?? 20;
  const keys = Object.keys(calls) as K[];
  const reps = {} as Record<K, number>;
  for (const k of keys) {
    const fastest = await warmUp(calls[k], opts.warmupMs ?? 300, opts.warmupCalls ?? 1);
    reps[k] = Math.max(1, Math.ceil(minSampleMs / Math.max(fastest, 1e-3)));
  }
  const wall = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  const cpu = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let run = 0; run < runs; run++) {
    for (const k of keys) {
      const s = await sample(calls[k], reps[k]);
      wall[k].push(s.wall);
      cpu[k].push(s.cpu);
    }
  }
  return Object.fromEntries(keys.map((k) => [k, { wallMs: median(wall[k]), cpuMs: median(cpu[k]), runs, reps: reps[k], cpuRuns: cpu[k] }])) as Record<K, Timing>;
}

/** The median over sample rounds of a's time over b's in the same round (measureInterleaved timings). */
export function pairedRatio(a: Timing, b: Timing): number {
  return median(a.cpuRuns.map((t, i) => t / b.cpuRuns[i]));
}
