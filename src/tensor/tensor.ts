// The float32 tensor: a shape plus contiguous row-major values. Ops live in ops/*.ts and never mutate their
// inputs; a Tensor is treated as immutable once an op returned it.
// Where the values live: on the host (a Float32Array), or on a device (a gpu.js texture, DeviceData) when a
// GPU kernel made the tensor. A device tensor is read back on the first access to `data` (one copy, kept);
// the next GPU kernel reads the texture directly, so a chain of GPU ops never leaves the device.
import { type Shape, ShapeError, assertValidShape, shapeStr, sizeOf } from "./shape.js";

/**
 * Values held by a device. Tensors that share them (reshape views) each retain once; the last release frees
 * the device memory (also done by the garbage collector through a FinalizationRegistry when a tensor is lost).
 */
export interface DeviceData {
  /** Who made it (a gpu.js runtime): kernels only read device data their own runtime made. */
  readonly owner: object;
  /** Number of float32 values. */
  readonly size: number;
  /** A host copy of the values (the implementation reads back once and keeps it). */
  read(): Float32Array;
  retain(): void;
  release(): void;
}

/** A device tensor was disposed before its values were read to the host. */
export class TensorDisposedError extends Error {
  constructor(shape: readonly number[]) {
    super(`Tensor${shapeStr(shape)}: its device memory was released by dispose() before the values were read`);
    this.name = "TensorDisposedError";
  }
}

// Releases the device data of tensors the program dropped without dispose().
const lost = typeof FinalizationRegistry === "function" ? new FinalizationRegistry<DeviceData>((d) => d.release()) : null;

export class Tensor {
  readonly shape: readonly number[];
  readonly size: number;
  private host: Float32Array | null;
  private dev: DeviceData | null = null;

  /** `data` (host values) or else `device` (values on a device); neither: zeros on the host. */
  constructor(shape: Shape, data?: Float32Array, device?: DeviceData) {
    assertValidShape("Tensor", shape);
    const n = sizeOf(shape);
    if (data && data.length !== n) {
      throw new ShapeError("Tensor", `shape ${shapeStr(shape)} needs ${n} values, got ${data.length}`);
    }
    if (device && device.size !== n) {
      throw new ShapeError("Tensor", `shape ${shapeStr(shape)} needs ${n} values, device data holds ${device.size}`);
    }
    this.shape = Object.freeze([...shape]);
    this.size = n;
    this.host = data ?? (device ? null : new Float32Array(n));
    if (device) this.attach(device);
  }

  /** A tensor whose values live on a device; `data` reads them back on first use. */
  static onDevice(shape: Shape, device: DeviceData): Tensor {
    return new Tensor(shape, undefined, device);
  }

  private attach(device: DeviceData): void {
    device.retain();
    this.dev = device;
    lost?.register(this, device, this);
  }

  /** The values on the host (read back from the device on first access). */
  get data(): Float32Array {
    if (this.host === null) {
      if (this.dev === null) throw new TensorDisposedError(this.shape);
      this.host = this.dev.read();
    }
    return this.host;
  }

  /** The device copy, when a GPU kernel made this tensor and it was not disposed. */
  get device(): DeviceData | null {
    return this.dev;
  }

  /** True when the values are on the host already (reading `data` copies nothing). */
  get onHost(): boolean {
    return this.host !== null;
  }

  /** Frees the device memory now (not waiting for the garbage collector); host values already read stay. */
  dispose(): void {
    if (this.dev === null) return;
    lost?.unregister(this);
    const d = this.dev;
    this.dev = null;
    d.release();
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

  /** Same data, new shape (no copy; a device tensor stays on the device). */
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
    if (this.host === null && this.dev === null) throw new TensorDisposedError(this.shape);
    return new Tensor(s, this.host ?? undefined, this.dev ?? undefined);
  }

  clone(): Tensor {
    return new Tensor(this.shape, this.data.slice());
  }

  toString(): string {
    return `Tensor${shapeStr(this.shape)}`;
  }
}
