// Benchmark helpers: machine description, medians, and optional PyTorch peers.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { cpus, totalmem } from "node:os";

export function machine(): string {
  const c = cpus();
  return `${c[0]?.model ?? "unknown CPU"} x${c.length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}/${process.arch}`;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs `fn` `warmup` times, then `runs` times; returns the median milliseconds. */
export function timeMedian(fn: () => void, runs = 5, warmup = 1): number {
  for (let i = 0; i < warmup; i++) fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

const PYTHON = "/usr/bin/python3";

/** True when Debian's python3 has torch (the bench then measures PyTorch in the same run). */
export function torchAvailable(): boolean {
  if (!existsSync(PYTHON)) return false;
  return spawnSync(PYTHON, ["-c", "import torch"], { encoding: "utf8" }).status === 0;
}

export interface TorchResult {
  imagesPerSecond: number;
  msPerBatch: number;
  threads: number;
  torch: string;
}

export function torchBench(model: string, data: string, batch: number, runs: number, threads = 1): TorchResult | null {
  const r = spawnSync(PYTHON, ["tools/reference/bench_torch.py", model, data, "--batch", String(batch), "--runs", String(runs), "--threads", String(threads)], {
    encoding: "utf8",
  });
  if (r.status !== 0) {
    process.stderr.write(`PyTorch bench failed: ${r.stderr.trim().split("\n").pop()}\n`);
    return null;
  }
  return JSON.parse(r.stdout.trim().split("\n").pop() ?? "null") as TorchResult;
}

/** Formats rows as a Markdown table. */
export function mdTable(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}
