// safetensors read/write: round trips of every dtype (oracle: the input arrays, bit-exact), one test per malformed-
// input kind (oracle: SafetensorsError naming file and tensor), a corruption fuzz test, and the shared ResNet-20.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  SafetensorsError,
  f16BitsToFloat32,
  bf16BitsToFloat32,
  float32ToBf16Bits,
  float32ToF16Bits,
  parseSafetensors,
  readSafetensors,
  serializeSafetensors,
  toBigInt64,
  toFloat32,
  toInt32,
  toInt8,
  toUint16Bits,
  toUint8,
  writeSafetensors,
  type SafeDType,
  type WritableTensor,
} from "../../src/io/safetensors.js";
import { sharedPath } from "../helpers/shared.js";

const FILE = "test.safetensors";

/** Builds a file from a header (object, or raw JSON text) and a data region, with an honest length prefix. */
function rawFile(header: unknown, data: Uint8Array | number = 0): Uint8Array {
  const json = new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  const body = typeof data === "number" ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.length + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(body, 8 + json.length);
  return out;
}

/** Deterministic test data for `count` elements of `dtype` (includes negatives, extremes and 16-bit specials). */
function sampleTensor(dtype: SafeDType, shape: number[]): WritableTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const f = (i: number) => (i % 7) * 0.75 - 2.5 + (i === 1 ? 1e-3 : 0);
  switch (dtype) {
    case "F32":
      return { dtype, shape, data: Float32Array.from({ length: n }, (_, i) => (i === 2 ? -3.4e38 : f(i))) };
    case "F16":
      return { dtype, shape, data: Uint16Array.from({ length: n }, (_, i) => (i === 3 ? 0x7c00 : float32ToF16Bits(f(i)))) };
    case "BF16":
      return { dtype, shape, data: Uint16Array.from({ length: n }, (_, i) => (i === 3 ? 0xff80 : float32ToBf16Bits(f(i)))) };
    case "I8":
      return { dtype, shape, data: Int8Array.from({ length: n }, (_, i) => ((i * 37) % 256) - 128) };
    case "U8":
      return { dtype, shape, data: Uint8Array.from({ length: n }, (_, i) => (i * 37) % 256) };
    case "I32":
      return { dtype, shape, data: Int32Array.from({ length: n }, (_, i) => (i === 0 ? -(2 ** 31) : i * 1000 - 3)) };
    case "I64":
      return { dtype, shape, data: BigInt64Array.from({ length: n }, (_, i) => BigInt(i * 100_000 - 7) * (i % 2 ? -1n : 1n)) };
    default:
      return dtype satisfies never;
  }
}

const DTYPES: SafeDType[] = ["F32", "F16", "BF16", "I8", "U8", "I32", "I64"];
const SHAPES: number[][] = [[2, 3], [5], [], [0], [3, 0, 2]];

describe("round trip", () => {
  describe.each(DTYPES)("%s", (dtype) => {
    it.each(SHAPES.map((s) => [JSON.stringify(s), s] as const))("shape %s", (_label, shape) => {
      const t = sampleTensor(dtype, shape);
      const bytes = serializeSafetensors({ x: t, pad: sampleTensor("U8", [3]) });
      const e = parseSafetensors(bytes, FILE).get("x");
      expect(e.dtype).toBe(dtype);
      expect(e.shape).toEqual(shape);
      const f32 = toFloat32(e);
      expect(f32.length).toBe(t.data.length);
      const d = t.data;
      if (dtype === "F32") expect(f32).toEqual(d);
      else if (dtype === "F16") {
        expect(toUint16Bits(e)).toEqual(d);
        expect(f32).toEqual(Float32Array.from(d as Uint16Array, f16BitsToFloat32));
      } else if (dtype === "BF16") {
        expect(toUint16Bits(e)).toEqual(d);
        expect(f32).toEqual(Float32Array.from(d as Uint16Array, bf16BitsToFloat32));
      } else if (dtype === "I8") expect(toInt8(e)).toEqual(d);
      else if (dtype === "U8") expect(toUint8(e)).toEqual(d);
      else if (dtype === "I32") expect(toInt32(e)).toEqual(d);
      else expect(toBigInt64(e)).toEqual(d);
      if (dtype !== "F32" && dtype !== "F16" && dtype !== "BF16") {
        expect(Array.from(f32)).toEqual(Array.from(d as ArrayLike<number | bigint>, (v) => Math.fround(Number(v))));
      }
    });
  });

  it("lays tensors out in sorted name order, pads the header to 8 bytes, and views the input without copying", () => {
    const bytes = serializeSafetensors({ b: sampleTensor("F32", [3]), a: sampleTensor("I8", [5]), c: sampleTensor("I64", [1]) });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header.a.data_offsets).toEqual([0, 5]);
    expect(header.b.data_offsets).toEqual([5, 17]);
    expect(header.c.data_offsets).toEqual([17, 25]);
    const st = parseSafetensors(bytes);
    expect(st.file).toBe("<memory>");
    expect([...st.tensors.keys()].sort()).toEqual(["a", "b", "c"]);
    expect(st.get("b").bytes.buffer).toBe(bytes.buffer);
    expect(st.get("b").bytes.byteOffset).toBe(8 + n + 5); // unaligned for F32: toFloat32 must still work
    expect(toFloat32(st.get("b"))).toEqual(sampleTensor("F32", [3]).data);
  });

  it("round-trips metadata, including unicode, and reports {} when absent", () => {
    const meta = { format: "pt", mean: "[0.485, 0.456, 0.406]", "ключ": "値 ✓", empty: "" };
    const st = parseSafetensors(serializeSafetensors({ w: sampleTensor("F32", [2]) }, meta));
    expect({ ...st.metadata }).toEqual(meta);
    expect({ ...parseSafetensors(serializeSafetensors({ w: sampleTensor("F32", [2]) })).metadata }).toEqual({});
    expect(parseSafetensors(serializeSafetensors({}, {})).tensors.size).toBe(0);
  });

  it("reads a file whose header has trailing spaces, gaps between ranges, and a buffer at an odd offset", () => {
    const header = { a: { dtype: "U8", shape: [2], data_offsets: [0, 2] }, b: { dtype: "F32", shape: [1], data_offsets: [5, 9] } };
    const data = new Uint8Array(9);
    data.set([1, 2]);
    new DataView(data.buffer).setFloat32(5, 1.5, true);
    const file = rawFile(JSON.stringify(header) + "     ", data);
    const shifted = new Uint8Array(file.length + 1);
    shifted.set(file, 1);
    const st = parseSafetensors(shifted.subarray(1), FILE);
    expect(toUint8(st.get("a"))).toEqual(new Uint8Array([1, 2]));
    expect(toFloat32(st.get("b"))).toEqual(new Float32Array([1.5]));
  });

  it("writes atomically to disk and reads back, leaving no temporary file", () => {
    const dir = mkdtempSync(join(tmpdir(), "zoa-st-"));
    try {
      const path = join(dir, "m.safetensors");
      writeSafetensors(path, { w: sampleTensor("BF16", [4]) }, { k: "v" });
      writeSafetensors(path, { w: sampleTensor("F16", [2, 2]) }, { k: "v2" }); // overwrite in place
      const st = readSafetensors(path);
      expect(st.file).toBe(path);
      expect(st.metadata.k).toBe("v2");
      expect(toUint16Bits(st.get("w"))).toEqual(sampleTensor("F16", [2, 2]).data);
      expect(readdirSync(dir)).toEqual(["m.safetensors"]);
      const bad = join(dir, "no-such-dir", "x.safetensors");
      expect(() => writeSafetensors(bad, {})).toThrow(SafetensorsError);
      expect(existsSync(`${bad}.tmp-${process.pid}`)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Runs `f`, asserting it throws a SafetensorsError whose message names the file and each of `names`. */
function expectError(f: () => unknown, file: string, ...names: string[]): SafetensorsError {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SafetensorsError);
  const e = err as SafetensorsError;
  expect(e.file).toBe(file);
  expect(e.message.startsWith(file)).toBe(true);
  for (const n of names) expect(e.message).toContain(n);
  return e;
}

const OK = { dtype: "F32", shape: [2], data_offsets: [0, 8] };
const parse = (bytes: Uint8Array) => () => parseSafetensors(bytes, FILE);

describe("malformed input raises SafetensorsError naming file, tensor and field", () => {
  it("file shorter than 8 bytes", () => {
    expectError(parse(new Uint8Array(5)), FILE, "5 bytes");
    expectError(parse(new Uint8Array(0)), FILE);
  });

  it("header length past the end of the file, or over 100 MB", () => {
    const f = rawFile({ w: OK }, 8);
    new DataView(f.buffer).setBigUint64(0, BigInt(f.length), true);
    expectError(parse(f), FILE, "past the end");
    new DataView(f.buffer).setBigUint64(0, 2n ** 64n - 1n, true);
    expectError(parse(f), FILE, "limit");
    new DataView(f.buffer).setBigUint64(0, 100_000_001n, true);
    expectError(parse(f), FILE, "limit");
  });

  it("header not UTF-8, not JSON, or not an object", () => {
    const f = rawFile('{"w": 1}');
    f[10] = 0xff; // lone continuation byte inside the key
    expectError(parse(f), FILE, "UTF-8");
    expectError(parse(rawFile('{"w": {"dtype": "F32",')), FILE, "JSON");
    expectError(parse(rawFile("")), FILE, "JSON");
    expectError(parse(rawFile("[1, 2]")), FILE, "object", "array");
    expectError(parse(rawFile("null")), FILE, "object");
    expectError(parse(rawFile('"str"')), FILE, "object");
  });

  it("__metadata__ not a string -> string object", () => {
    expectError(parse(rawFile({ __metadata__: { epochs: 8 } })), FILE, "__metadata__", "epochs");
    expectError(parse(rawFile({ __metadata__: ["a"] })), FILE, "__metadata__");
    expectError(parse(rawFile({ __metadata__: "a" })), FILE, "__metadata__");
    expectError(parse(rawFile({ __metadata__: null })), FILE, "__metadata__");
  });

  it.each(["dtype", "shape", "data_offsets"])("entry missing %s", (field) => {
    const entry: Record<string, unknown> = { ...OK };
    delete entry[field];
    const e = expectError(parse(rawFile({ "layer.w": entry }, 8)), FILE, "layer.w", field);
    expect(e.tensor).toBe("layer.w");
  });

  it.each([
    ["not an object", 3, "entry"],
    ["dtype not a string", { ...OK, dtype: 4 }, "dtype"],
    ["shape not an array", { ...OK, shape: 2 }, "shape"],
    ["negative dim", { ...OK, shape: [-2] }, "shape"],
    ["fractional dim", { ...OK, shape: [1.5] }, "shape"],
    ["string dim", { ...OK, shape: ["2"] }, "shape"],
    ["dim past 2^53", { ...OK, shape: [2 ** 60] }, "shape"],
    ["offsets not two numbers", { ...OK, data_offsets: [0, 4, 8] }, "data_offsets"],
    ["negative offset", { ...OK, data_offsets: [-8, 0] }, "data_offsets"],
    ["string offset", { ...OK, data_offsets: ["0", 8] }, "data_offsets"],
    ["begin > end", { ...OK, data_offsets: [8, 0] }, "data_offsets"],
  ])("entry of the wrong type: %s", (_what, entry, field) => {
    expectError(parse(rawFile({ "blk.0": entry }, 8)), FILE, "blk.0", field);
  });

  it("unknown dtype", () => {
    expectError(parse(rawFile({ w: { ...OK, dtype: "F64" } }, 8)), FILE, "w", "unknown dtype", "F64");
    expectError(parse(rawFile({ w: { ...OK, dtype: "toString" } }, 8)), FILE, "w", "unknown dtype");
  });

  it("offsets outside the data region", () => {
    expectError(parse(rawFile({ w: OK }, 7)), FILE, "w", "data_offsets", "outside");
  });

  it("overlapping ranges between tensors", () => {
    const header = { a: OK, b: { dtype: "I32", shape: [1], data_offsets: [4, 8] } };
    expectError(parse(rawFile(header, 8)), FILE, "b", "overlaps", "a");
    // Empty ranges overlap nothing.
    const empty = { a: OK, z: { dtype: "F32", shape: [0], data_offsets: [4, 4] } };
    expect(parseSafetensors(rawFile(empty, 8)).get("z").bytes.length).toBe(0);
    const huge = { z: { dtype: "I64", shape: [2 ** 30, 2 ** 30, 0], data_offsets: [0, 0] } };
    expect(toFloat32(parseSafetensors(rawFile(huge)).get("z")).length).toBe(0);
  });

  it("shape x dtype size differs from the byte range", () => {
    expectError(parse(rawFile({ w: { ...OK, shape: [3] } }, 12)), FILE, "w", "12 bytes", "span 8");
    expectError(parse(rawFile({ w: { ...OK, dtype: "F16" } }, 8)), FILE, "w", "F16");
    expectError(parse(rawFile({ w: { ...OK, shape: [2 ** 40, 2 ** 40] } }, 8)), FILE, "w", "shape");
  });

  it("get() of a missing tensor, and an unreadable path", () => {
    expectError(() => parseSafetensors(rawFile({ w: OK }, 8), FILE).get("bias"), FILE, "bias");
    expectError(() => readSafetensors("/nonexistent/model.safetensors"), "/nonexistent/model.safetensors", "cannot read");
  });

  it("typed getters reject other dtypes, naming the tensor", () => {
    const st = parseSafetensors(rawFile({ w: OK }, 8));
    for (const f of [toInt8, toUint8, toInt32, toBigInt64, toUint16Bits]) {
      const e = expectError(() => f(st.get("w")), "<tensor>", "w", "F32");
      expect(e.tensor).toBe("w");
    }
  });

  it("serialize validates names, dtypes, data kinds, lengths and metadata", () => {
    const f32 = new Float32Array(4);
    expectError(() => serializeSafetensors({ w: { dtype: "F32", shape: [3], data: f32 } }), "<serialize>", "w", "3 elements");
    expectError(() => serializeSafetensors({ w: { dtype: "F16", shape: [4], data: f32 } }), "<serialize>", "w", "Uint16Array");
    expectError(() => serializeSafetensors({ w: { dtype: "I64", shape: [4], data: new Int32Array(4) } }), "<serialize>", "w", "BigInt64Array");
    expectError(() => serializeSafetensors({ w: { dtype: "F64" as SafeDType, shape: [4], data: f32 } }), "<serialize>", "w", "unknown dtype");
    expectError(() => serializeSafetensors({ w: { dtype: "F32", shape: [-4], data: f32 } }), "<serialize>", "w", "shape");
    expectError(() => serializeSafetensors({ __metadata__: { dtype: "F32", shape: [4], data: f32 } }), "<serialize>", "reserved");
    expectError(() => serializeSafetensors({}, { n: 3 as unknown as string }), "<serialize>", "__metadata__", "n");
  });
});

describe("corruption fuzz", () => {
  const base = serializeSafetensors(
    {
      "conv.weight": sampleTensor("F32", [2, 3]),
      "conv.bias": sampleTensor("F16", [2]),
      "emb": sampleTensor("BF16", [3]),
      "q": sampleTensor("I8", [5]),
      "u": sampleTensor("U8", [0]),
      "acc": sampleTensor("I32", []),
      "step": sampleTensor("I64", [2]),
    },
    { note: "fuzz" },
  );
  const headerLen = Number(new DataView(base.buffer).getBigUint64(0, true));
  const headerText = new TextDecoder().decode(base.subarray(8, 8 + headerLen)).trimEnd();
  const names = Object.keys(JSON.parse(headerText));

  /** One corruption; `what` makes fast-check counterexamples readable. Each copes with already-corrupted input. */
  type Corruption = { what: string; apply: (b: Uint8Array) => Uint8Array };
  const dataOf = (b: Uint8Array) => b.subarray(Math.min(8 + headerLen, b.length));
  const xorAt = (b: Uint8Array, edits: [number, number][], from: number): Uint8Array => {
    const c = b.slice();
    for (const [i, x] of edits) if (c.length > from) c[from + (i % (c.length - from))] ^= x;
    return c;
  };
  const byte = fc.integer({ min: 1, max: 255 });
  const truncate = fc.nat({ max: base.length }).map((k): Corruption => ({ what: `truncate to ${k}`, apply: (b) => b.slice(0, k) }));
  const flip = fc
    .array(fc.tuple(fc.nat({ max: base.length - 1 }), byte), { minLength: 1, maxLength: 8 })
    .map((edits): Corruption => ({ what: `xor bytes ${JSON.stringify(edits)}`, apply: (b) => xorAt(b, edits, 0) }));
  const flipHeader = fc
    .array(fc.tuple(fc.nat({ max: headerLen - 1 }), byte), { minLength: 1, maxLength: 4 })
    .map((edits): Corruption => ({ what: `xor header bytes ${JSON.stringify(edits)}`, apply: (b) => xorAt(b, edits, 8) }));
  const u64 = fc.oneof(
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    fc.bigInt({ min: 0n, max: BigInt(base.length + 16) }),
    fc.constantFrom(0n, 1n, 7n, BigInt(headerLen - 1), BigInt(headerLen + 1), 100_000_000n, 100_000_001n, 2n ** 63n, 2n ** 64n - 1n),
  );
  const relength = u64.map((n): Corruption => ({
    what: `header length := ${n}`,
    apply: (b) => {
      const c = new Uint8Array(Math.max(8, b.length));
      c.set(b);
      new DataView(c.buffer).setBigUint64(0, n, true);
      return c;
    },
  }));
  const jsonValue = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.integer({ min: -4, max: 80 }),
    fc.constantFrom("F32", "F16", "BF16", "I8", "U8", "I32", "I64", "F64", "", 1e300, -0, 2 ** 53, [], {}),
    fc.array(fc.integer({ min: -2, max: 80 }), { maxLength: 3 }),
  );
  /** Replaces or deletes one field (or one element of an array field) of one entry; re-encodes with an honest length. */
  const jsonEdit = fc
    .tuple(fc.constantFrom(...names), fc.constantFrom("dtype", "shape", "data_offsets", "x", "note"), fc.option(fc.nat({ max: 2 })), jsonValue, fc.boolean())
    .map(([name, field, index, value, remove]): Corruption => ({
      what: `${name}.${field}${index === null ? "" : `[${index}]`} ${remove ? "deleted" : `:= ${JSON.stringify(value)}`}`,
      apply: (b) => {
        const h = JSON.parse(headerText);
        const entry = h[name];
        if (remove) delete entry[field];
        else if (index !== null && Array.isArray(entry[field])) entry[field][index] = value;
        else entry[field] = value;
        return rawFile(h, dataOf(b));
      },
    }));
  /** Splices random text into the header JSON at a random point. */
  const splice = fc
    .tuple(fc.nat({ max: headerText.length }), fc.nat({ max: 6 }), fc.string({ unit: "binary", maxLength: 8 }))
    .map(([at, del, text]): Corruption => ({
      what: `splice ${JSON.stringify(text)} at ${at} over ${del}`,
      apply: (b) => rawFile(headerText.slice(0, at) + text + headerText.slice(at + del), dataOf(b)),
    }));

  it("parseSafetensors returns or throws SafetensorsError, never anything else (fast-check, 600 runs)", () => {
    const corruption = fc.array(fc.oneof(truncate, flip, flipHeader, relength, jsonEdit, splice), { minLength: 1, maxLength: 3 });
    let accepted = 0;
    fc.assert(
      fc.property(corruption, (edits) => {
        const bytes = edits.reduce((b, c) => c.apply(b), base);
        let st;
        try {
          st = parseSafetensors(bytes, FILE);
        } catch (e) {
          if (!(e instanceof SafetensorsError)) throw e;
          expect(e.message.startsWith(FILE)).toBe(true);
          return;
        }
        accepted++;
        // Whatever was accepted must be consistent enough to decode.
        for (const t of st.tensors.values()) {
          const n = t.shape.reduce((a, d) => a * d, 1);
          expect(toFloat32(t).length).toBe(n);
        }
      }),
      { numRuns: 600, seed: 0x5afe7e45 },
    );
    expect(accepted).toBeGreaterThan(0); // some corruptions (data-byte flips) leave a valid file
  });
});

describe("shared checkpoint", () => {
  it("reads resnet20-cifar10.safetensors", () => {
    const path = sharedPath("models/resnet20-cifar10.safetensors");
    if (path === null) return;
    const st = readSafetensors(path);
    const conv1 = st.get("conv1.weight");
    expect(conv1.dtype).toBe("F32");
    expect(conv1.shape).toEqual([16, 3, 3, 3]);
    const linear = st.get("linear.weight");
    expect(linear.dtype).toBe("F32");
    expect(linear.shape).toEqual([10, 64]);
    const w = toFloat32(conv1);
    expect(w.every(Number.isFinite)).toBe(true);
    console.log(`[info] ${path}: ${st.tensors.size} tensors, metadata keys: ${Object.keys(st.metadata).join(", ") || "(none)"}`);
  });
});
