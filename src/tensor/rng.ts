// Seeded pseudo-random numbers for everything in zoa-ts (init, corruptions, perturbations, shuffles).
// Generator: PCG32 (O'Neill 2014, "PCG-XSH-RR" with 64-bit state), done in BigInt-free 32-bit halves.
// Never use Math.random in library code: pass an Rng in.

const MUL_HI = 0x5851f42d;
const MUL_LO = 0x4c957f2d;

export class Rng {
  private hi = 0;
  private lo = 0;
  private incHi: number;
  private incLo: number;
  private spareNormal: number | null = null;

  /** `seed` and `stream` are any 32-bit unsigned integers; the same pair always gives the same sequence. */
  constructor(seed: number, stream = 0x14057b7e) {
    if (!Number.isFinite(seed)) throw new RangeError(`Rng: seed must be a finite number, got ${seed}`);
    // inc must be odd: (stream << 1) | 1, split into 32-bit halves.
    const s = stream >>> 0;
    this.incHi = (s >>> 31) >>> 0;
    this.incLo = ((s << 1) | 1) >>> 0;
    this.step();
    this.addState(0, seed >>> 0);
    this.addState(Math.floor(seed / 2 ** 32) >>> 0, 0);
    this.step();
  }

  /** Independent child generator (for per-worker or per-purpose streams). */
  fork(tag: number): Rng {
    return new Rng(this.nextU32() ^ Math.imul(tag | 0, 0x9e3779b1), (tag * 2 + 1) >>> 0);
  }

  private addState(hi: number, lo: number): void {
    const sumLo = this.lo + lo;
    this.lo = sumLo >>> 0;
    this.hi = (this.hi + hi + (sumLo > 0xffffffff ? 1 : 0)) >>> 0;
  }

  /** state = state * MUL + inc (mod 2^64), with 16-bit limbs so no product exceeds 2^53. */
  private step(): void {
    const aLo = this.lo;
    const aHi = this.hi;
    const a0 = aLo & 0xffff;
    const a1 = aLo >>> 16;
    const b0 = MUL_LO & 0xffff;
    const b1 = MUL_LO >>> 16;
    const p00 = a0 * b0;
    const p01 = a0 * b1;
    const p10 = a1 * b0;
    const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
    const lo = ((mid & 0xffff) * 0x10000 + (p00 & 0xffff)) >>> 0;
    const carry = Math.floor(mid / 0x10000) + Math.floor(p01 / 0x10000) + Math.floor(p10 / 0x10000) + a1 * b1;
    const hi = (carry + Math.imul(aHi, MUL_LO) + Math.imul(aLo, MUL_HI)) >>> 0;
    this.lo = lo;
    this.hi = hi;
    this.addState(this.incHi, this.incLo);
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const oldHi = this.hi;
    const oldLo = this.lo;
    this.step();
    // xorshifted = ((old >> 18) ^ old) >> 27, truncated to 32 bits.
    const shHi = oldHi >>> 18;
    const shLo = ((oldLo >>> 18) | (oldHi << 14)) >>> 0;
    const xHi = (shHi ^ oldHi) >>> 0;
    const xLo = (shLo ^ oldLo) >>> 0;
    const xorshifted = ((xLo >>> 27) | (xHi << 5)) >>> 0;
    const rot = oldHi >>> 27;
    return ((xorshifted >>> rot) | (xorshifted << (-rot & 31))) >>> 0;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextU32() >>> 5;
    const b = this.nextU32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Uniform in [lo, hi). */
  uniformIn(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Uniform integer in [lo, hi) (hi exclusive, like numpy.random.randint). */
  int(lo: number, hi: number): number {
    if (!(hi > lo)) throw new RangeError(`Rng.int: empty range [${lo}, ${hi})`);
    return lo + Math.floor(this.uniform() * (hi - lo));
  }

  /** Standard normal (Box-Muller, the spare value cached). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Fisher-Yates shuffle in place; returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      const t = items[i];
      items[i] = items[j];
      items[j] = t;
    }
    return items;
  }

  /** A permutation of 0..n-1. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }
}
