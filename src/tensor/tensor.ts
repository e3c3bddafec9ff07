// The float32 tensor: a shape plus a contiguous row-major Float32Array. Ops live in ops/*.ts and never
// mutate their inputs; a Tensor is treated as immutable once an op returned it.
import { type Shape, ShapeError, assertValidShape, shapeStr, sizeOf } from "./shape.js";

export class Tensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;

  constructor(shape: Shape, data?: Float32Array) {
    assertValidShape("Tensor", shape);
    const n = sizeOf(shape);
    if (data && data.length !== n) {
      throw new ShapeError("Tensor", `shape ${shapeStr(shape)} needs ${n} values, got ${data.length}`);
    }
    this.shape = Object.freeze([...shape]);
    this.data = data ?? new Float32Array(n);
  }

  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  static zeros(shape: Shape): Tensor {
    return new Tensor(shape);
  }

  static full(shape: Shape, value: number): Tensor {
    return new Tensor(shape, new Float32Array(sizeOf(shape)).fill(value));
  }

  /** Copies `values` (any numeric array) into a new tensor of `shape`. */
  static from(shape: Shape, values: ArrayLike<number>): Tensor {
    return new Tensor(shape, Float32Array.from(values));
  }

  static scalar(value: number): Tensor {
    return new Tensor([], Float32Array.of(value));
  }

  /** Same data, new shape (no copy). */
  reshape(shape: Shape): Tensor {
    let inferred = -1;
    let known = 1;
    const s = [...shape];
    s.forEach((d, i) => {
      if (d === -1) {
        if (inferred >= 0) throw new ShapeError("reshape", `more than one -1 in ${shapeStr(shape)}`);
        inferred = i;
      } else known *= d;
    });
    if (inferred >= 0) {
      if (known === 0 || this.size % known !== 0) {
        throw new ShapeError("reshape", `cannot reshape ${shapeStr(this.shape)} to ${shapeStr(shape)}`);
      }
      s[inferred] = this.size / known;
    }
    if (sizeOf(s) !== this.size) {
      throw new ShapeError("reshape", `cannot reshape ${shapeStr(this.shape)} (${this.size}) to ${shapeStr(shape)}`);
    }
    return new Tensor(s, this.data);
  }

  clone(): Tensor {
    return new Tensor(this.shape, this.data.slice());
  }

  toString(): string {
    return `Tensor${shapeStr(this.shape)}`;
  }
}
