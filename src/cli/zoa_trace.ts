// ZOA's knowledge bank along a stream, for the demo's HTML report: every slot it saved (with the corruption whose
// knowledge it holds) and the fusion weights softmax(s * alpha) at the end of each corruption.
import type { Zoa } from "../zoa/zoa.js";

export interface ZoaTrace {
  /** Every slot the bank held: its id, the stream batch at which it was saved and the domain it learned. */
  slots: { id: number; savedAt: number; learnedOn: string }[];
  /** Fusion weights at the end of each domain, in stream order: "source" and one entry per slot id then held. */
  atDomainEnd: { domain: string; weights: Record<string, number> }[];
  shifts: number;
}

/** Call observe() after every batch ZOA has seen, in stream order (step = ZOA's batch index). */
export class ZoaTracer {
  private readonly domainOfStep: string[] = [];
  private readonly slots = new Map<number, { id: number; savedAt: number; learnedOn: string }>();
  private readonly ends = new Map<string, Record<string, number>>();

  constructor(private readonly zoa: Zoa) {}

  observe(b: { domain: string; step: number }): void {
    this.domainOfStep[b.step] = b.domain;
    const bank = this.zoa.bank;
    for (const slot of bank.slots) {
      // A slot saved at batch t holds what was learned up to batch t - 1 (the shift is detected on batch t).
      if (!this.slots.has(slot.id)) this.slots.set(slot.id, { id: slot.id, savedAt: slot.createdAt, learnedOn: this.domainOfStep[slot.createdAt - 1] ?? "-" });
    }
    const w = bank.weights();
    const weights: Record<string, number> = { source: w[0] };
    bank.slots.forEach((slot, j) => {
      weights[String(slot.id)] = w[j + 1];
    });
    // The last batch of a domain overwrites the earlier ones: what stays is the state at the domain's end.
    this.ends.set(b.domain, weights);
  }

  result(): ZoaTrace {
    return {
      slots: [...this.slots.values()],
      atDomainEnd: [...this.ends.entries()].map(([domain, weights]) => ({ domain, weights })),
      shifts: this.zoa.shifts,
    };
  }
}
