// The WebAssembly emitter: LEB128 against known byte sequences and a decoder, a module compared byte for
// byte with its known encoding, and emitted modules executed (i32 add, an f32x4 multiply-add over memory).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FunctionBuilder, f32Bytes, sleb128, uleb128 } from "../../src/wasm/emitter.js";
import { relaxedSimdSupported, simdSupported } from "../../src/wasm/features.js";
import { ModuleBuilder } from "../../src/wasm/module.js";
import { OPS } from "../../src/wasm/opcodes.js";

function decodeUleb(bytes: number[]): number {
  let v = 0;
  let scale = 1;
  for (const b of bytes) {
    v += (b & 0x7f) * scale;
    scale *= 128;
  }
  return v;
}

function decodeSleb(bytes: number[]): number {
  const u = decodeUleb(bytes);
  const bits = 7 * bytes.length;
  return bytes[bytes.length - 1] & 0x40 ? u - 2 ** bits : u;
}

describe("LEB128 (spec §5.2.2)", () => {
  it("encodes unsigned values to known bytes", () => {
    expect(uleb128(0)).toEqual([0x00]);
    expect(uleb128(1)).toEqual([0x01]);
    expect(uleb128(127)).toEqual([0x7f]);
    expect(uleb128(128)).toEqual([0x80, 0x01]);
    expect(uleb128(300)).toEqual([0xac, 0x02]);
    expect(uleb128(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(uleb128(2 ** 32 - 1)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
  });

  it("encodes signed values to known bytes", () => {
    expect(sleb128(0)).toEqual([0x00]);
    expect(sleb128(-1)).toEqual([0x7f]);
    expect(sleb128(63)).toEqual([0x3f]);
    expect(sleb128(64)).toEqual([0xc0, 0x00]);
    expect(sleb128(-64)).toEqual([0x40]);
    expect(sleb128(-65)).toEqual([0xbf, 0x7f]);
    expect(sleb128(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(sleb128(2 ** 31 - 1)).toEqual([0xff, 0xff, 0xff, 0xff, 0x07]);
    expect(sleb128(-(2 ** 31))).toEqual([0x80, 0x80, 0x80, 0x80, 0x78]);
  });

  it("round-trips through a decoder, in the fewest bytes", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (n) => {
        const b = uleb128(n);
        expect(decodeUleb(b)).toBe(n);
        expect(b.length).toBe(Math.max(1, Math.ceil(Math.log2(n + 1) / 7)));
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (n) => {
        expect(decodeSleb(sleb128(n))).toBe(n);
      }),
    );
  });

  it("rejects values it cannot encode", () => {
    expect(() => uleb128(-1)).toThrow(RangeError);
    expect(() => uleb128(1.5)).toThrow(RangeError);
    expect(() => sleb128(2 ** 60)).toThrow(RangeError);
  });
});

describe("instruction encoding (spec §5.4)", () => {
  it("writes SIMD opcodes as 0xFD then a u32 LEB128", () => {
    const f = new FunctionBuilder([], []);
    f.op("v128.const", new Uint8Array(16)).op("v128.const", new Uint8Array(16)).op("f32x4.mul").op("drop");
    const body = f.finish();
    // locals vec (0), v128.const (FD 0C + 16 bytes) twice, f32x4.mul = FD E6 01, drop, end
    expect(body.slice(0, 3)).toEqual([0x00, 0xfd, 0x0c]);
    expect(body.slice(-5)).toEqual([0xfd, 0xe6, 0x01, 0x1a, 0x0b]);
    expect(OPS["f32x4.relaxed_madd"].code).toBe(0x105);
  });

  it("writes memargs as log2(align) then offset, defaulting to natural alignment", () => {
    const f = new FunctionBuilder(["i32"], []);
    f.get(f.params[0]).op("v128.load", 32).op("drop");
    f.get(f.params[0]).op("f32.load", 4, 0).op("drop");
    expect(f.finish()).toEqual([0x00, 0x20, 0x00, 0xfd, 0x00, 0x04, 0x20, 0x1a, 0x20, 0x00, 0x2a, 0x00, 0x04, 0x1a, 0x0b]);
    expect(() => new FunctionBuilder([], []).op("f32.load", 0, 3)).toThrow(/alignment/);
  });

  it("groups locals by type and checks structured control", () => {
    const f = new FunctionBuilder([], []);
    f.local("i32");
    f.local("i32");
    f.local("v128");
    const outer = f.block();
    f.loop();
    f.br(outer); // depth 1: the loop is innermost
    f.end().end();
    expect(f.finish()).toEqual([0x02, 0x02, 0x7f, 0x01, 0x7b, 0x02, 0x40, 0x03, 0x40, 0x0c, 0x01, 0x0b, 0x0b, 0x0b]);
    const open = new FunctionBuilder([], []);
    open.block();
    expect(() => open.finish()).toThrow(/open/);
    const g = new FunctionBuilder([], []);
    const closed = g.block();
    g.end();
    expect(() => g.br(closed)).toThrow(/enclosing/);
  });

  it("wraps i32 constants to 32 bits", () => {
    const f = new FunctionBuilder([], ["i32"]);
    f.i32(0xffffffff);
    const m = new ModuleBuilder();
    m.addFunction(f, "k");
    expect(f.finish()).toEqual([0x00, 0x41, 0x7f, 0x0b]); // i32.const -1
    const k = new WebAssembly.Instance(new WebAssembly.Module(m.build())).exports.k as () => number;
    expect(k()).toBe(-1);
  });

  it("encodes float constants as little-endian IEEE 754", () => {
    expect(f32Bytes(1)).toEqual([0x00, 0x00, 0x80, 0x3f]);
    expect(f32Bytes(-2.5)).toEqual([0x00, 0x00, 0x20, 0xc0]);
  });
});

describe("emitted modules", () => {
  it("builds the known bytes of an i32 add module, which adds", () => {
    const f = new FunctionBuilder(["i32", "i32"], ["i32"]);
    f.get(f.params[0]).get(f.params[1]).op("i32.add");
    const m = new ModuleBuilder();
    m.addFunction(f, "add");
    const bytes = m.build();
    // (module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))
    expect([...bytes]).toEqual([
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
      0x01, 0x07, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, // type section: (i32 i32) -> i32
      0x03, 0x02, 0x01, 0x00, // function section: func 0 has type 0
      0x07, 0x07, 0x01, 0x03, 0x61, 0x64, 0x64, 0x00, 0x00, // export "add" = func 0
      0x0a, 0x09, 0x01, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b, // code section
    ]);
    const add = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.add as (a: number, b: number) => number;
    expect(add(2, 3)).toBe(5);
    expect(add(-7, 3)).toBe(-4);
    expect(add(2 ** 31 - 1, 1)).toBe(-(2 ** 31)); // i32 wraps
  });

  it("runs an f32x4 multiply-add over memory: out[i] = a[i] * b[i] + c[i]", () => {
    expect(simdSupported()).toBe(true); // Node >= 16.4 (V8 9.1) ships SIMD128
    // madd(a, b, c, out, n): byte addresses, n a multiple of 4
    const f = new FunctionBuilder(["i32", "i32", "i32", "i32", "i32"], []);
    const [a, b, c, out, n] = f.params;
    const i = f.local("i32");
    const loop = f.loop();
    f.get(out).get(i).op("i32.add");
    f.get(a).get(i).op("i32.add").op("v128.load");
    f.get(b).get(i).op("i32.add").op("v128.load");
    f.op("f32x4.mul");
    f.get(c).get(i).op("i32.add").op("v128.load");
    f.op("f32x4.add").op("v128.store");
    f.get(i).i32(16).op("i32.add").tee(i);
    f.get(n).i32(4).op("i32.mul").op("i32.lt_u").brIf(loop);
    f.end();
    const memory = new WebAssembly.Memory({ initial: 1 });
    const m = new ModuleBuilder().importMemory({ module: "env", name: "memory", initial: 1 });
    m.addFunction(f, "madd");
    const madd = new WebAssembly.Instance(new WebAssembly.Module(m.build()), { env: { memory } }).exports.madd as (
      ...args: number[]
    ) => void;
    const heap = new Float32Array(memory.buffer);
    const N = 64;
    for (let k = 0; k < 3 * N; k++) heap[k] = Math.fround(Math.sin(k) * 3);
    madd(0, 4 * N, 8 * N, 12 * N, N);
    for (let k = 0; k < N; k++) {
      // mul and add each round to float32 (no fusion without relaxed SIMD)
      const want = Math.fround(Math.fround(heap[k] * heap[N + k]) + heap[2 * N + k]);
      expect(heap[3 * N + k]).toBe(want);
    }
  });

  it("reports relaxed SIMD as the engine's validate() does", () => {
    const f = new FunctionBuilder([], []);
    const z = new Uint8Array(16);
    f.op("v128.const", z).op("v128.const", z).op("v128.const", z).op("f32x4.relaxed_madd").op("drop");
    const m = new ModuleBuilder();
    m.addFunction(f);
    expect(relaxedSimdSupported()).toBe(WebAssembly.validate(m.build()));
  });
});
