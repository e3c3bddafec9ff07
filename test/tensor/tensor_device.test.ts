// Tensor storage on a device (src/tensor/tensor.ts): a tensor made from DeviceData reads its values back once,
// on first access to `data`; reshape views share the device data and its one host copy; the device memory
// is released when the last tensor holding it is disposed. The oracle is a counting fake device.
import { describe, expect, it } from "vitest";
import { ShapeError } from "../../src/tensor/shape.js";
import { type DeviceData, Tensor, TensorDisposedError } from "../../src/tensor/tensor.js";

class FakeDevice implements DeviceData {
  readonly owner = {};
  reads = 0;
  refs = 0;
  freed = 0;
  constructor(private readonly values: Float32Array) {}
  get size(): number {
    return this.values.length;
  }
  private host: Float32Array | null = null;
  read(): Float32Array {
    if (!this.host) {
      this.reads++;
      this.host = this.values.slice();
    }
    return this.host;
  }
  retain(): void {
    this.refs++;
  }
  release(): void {
    if (--this.refs === 0) this.freed++;
  }
}

describe("Tensor on a device", () => {
  it("reads back only when data is asked for, once", () => {
    const dev = new FakeDevice(Float32Array.of(1, 2, 3, 4, 5, 6));
    const t = Tensor.onDevice([2, 3], dev);
    expect(t.size).toBe(6);
    expect(t.onHost).toBe(false);
    expect(t.device).toBe(dev);
    expect(dev.reads).toBe(0);
    expect([...t.data]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(t.data).toBe(t.data);
    expect(t.onHost).toBe(true);
    expect(dev.reads).toBe(1);
  });

  it("reshape views stay on the device and share the device data", () => {
    const dev = new FakeDevice(Float32Array.of(1, 2, 3, 4));
    const t = Tensor.onDevice([4], dev);
    const v = t.reshape([2, -1]);
    expect([...v.shape]).toEqual([2, 2]);
    expect(v.device).toBe(dev);
    expect(v.onHost).toBe(false);
    expect(dev.refs).toBe(2);
    expect(v.data[3]).toBe(4);
    expect(t.data[0]).toBe(1);
    expect(dev.reads).toBe(1);
    // A view made after the read shares the host copy as well.
    expect(t.reshape([1, 4]).data).toBe(t.data);
  });

  it("dispose releases the device data; the last holder frees it; values already read stay", () => {
    const dev = new FakeDevice(Float32Array.of(7, 8));
    const t = Tensor.onDevice([2], dev);
    const v = t.reshape([1, 2]);
    t.dispose();
    expect(dev.freed).toBe(0);
    expect(t.device).toBeNull();
    expect(() => t.data).toThrow(TensorDisposedError);
    expect(() => t.reshape([2, 1])).toThrow(TensorDisposedError);
    expect([...v.data]).toEqual([7, 8]);
    v.dispose();
    v.dispose();
    expect(dev.freed).toBe(1);
    expect(dev.refs).toBe(0);
    expect([...v.data]).toEqual([7, 8]);
  });

  it("host tensors: dispose is a no-op, size and data as before", () => {
    const t = new Tensor([3], Float32Array.of(1, 2, 3));
    expect(t.device).toBeNull();
    t.dispose();
    expect([...t.data]).toEqual([1, 2, 3]);
    expect(new Tensor([2, 0]).size).toBe(0);
  });

  it("names the shape when the device data has the wrong size", () => {
    const dev = new FakeDevice(new Float32Array(5));
    expect(() => Tensor.onDevice([2, 3], dev)).toThrow(ShapeError);
    expect(() => Tensor.onDevice([2, 3], dev)).toThrow(/\[2, 3\].*6.*5|6 values.*5/);
    expect(dev.refs).toBe(0);
  });
});
