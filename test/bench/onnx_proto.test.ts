// The bench's ONNX protobuf encoder: wire-format primitives against the byte examples of the protobuf encoding
// guide (protobuf.dev/programming-guides/encoding), and whole ModelProtos decoded back by an independent
// wire-format reader written here (field numbers from onnx/onnx.proto).
import { describe, expect, it } from "vitest";
import { DataType, ProtoWriter, encodeModel, int64s } from "../../bench/peers/onnx_proto.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

describe("ProtoWriter wire format (protobuf encoding guide examples)", () => {
  it("varint field: a = 150 is 08 96 01", () => {
    expect(hex(new ProtoWriter().varint(1, 150).finish())).toBe("089601");
  });
  it("string field: b = 'testing' is 12 07 74 65 73 74 69 6e 67", () => {
    expect(hex(new ProtoWriter().string(2, "testing").finish())).toBe("120774657374696e67");
  });
  it("int64 -1 is ten bytes: nine ff then 01", () => {
    expect(hex(new ProtoWriter().varint(1, -1).finish())).toBe(`08${"ff".repeat(9)}01`);
    expect(hex(new ProtoWriter().varint(1, -2n).finish())).toBe(`08fe${"ff".repeat(8)}01`);
  });
  it("float field: 1.0 is key 15 then 00 00 80 3f (little-endian IEEE 754)", () => {
    expect(hex(new ProtoWriter().float(2, 1).finish())).toBe("150000803f");
  });
  it("varint 300 is ac 02; field 16 needs a two-byte key", () => {
    expect(hex(new ProtoWriter().rawVarint(300).finish())).toBe("ac02");
    expect(hex(new ProtoWriter().varint(16, 1).finish())).toBe("800101");
  });
  it("rejects a non-integer varint", () => {
    expect(() => new ProtoWriter().varint(1, 1.5)).toThrow(RangeError);
  });
});

// ---- an independent reader: message bytes -> field number -> list of raw values ----
type Field = bigint | Uint8Array | number;

function readVarint(b: Uint8Array, at: { i: number }): bigint {
  let v = 0n;
  let shift = 0n;
  for (;;) {
    const byte = b[at.i++];
    v |= BigInt(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return v;
    shift += 7n;
  }
}

function decode(b: Uint8Array): Map<number, Field[]> {
  const out = new Map<number, Field[]>();
  const at = { i: 0 };
  while (at.i < b.length) {
    const key = Number(readVarint(b, at));
    const field = key >> 3;
    let v: Field;
    switch (key & 7) {
      case 0:
        v = readVarint(b, at);
        break;
      case 2: {
        const n = Number(readVarint(b, at));
        v = b.subarray(at.i, at.i + n);
        at.i += n;
        break;
      }
      case 5:
        v = new DataView(b.buffer, b.byteOffset + at.i, 4).getFloat32(0, true);
        at.i += 4;
        break;
      default:
        throw new Error(`unexpected wire type ${key & 7}`);
    }
    out.set(field, [...(out.get(field) ?? []), v]);
  }
  return out;
}

const msgs = (m: Map<number, Field[]>, f: number): Map<number, Field[]>[] => (m.get(f) ?? []).map((v) => decode(v as Uint8Array));
const str = (m: Map<number, Field[]>, f: number): string => new TextDecoder().decode(m.get(f)?.[0] as Uint8Array);
const int = (m: Map<number, Field[]>, f: number): bigint => m.get(f)?.[0] as bigint;

describe("encodeModel decodes back (onnx.proto field numbers)", () => {
  const w = Float32Array.from([1.5, -2.25, 3, 0.125, 7, -8]);
  const bytes = encodeModel({
    opset: 13,
    graph: {
      name: "g",
      nodes: [
        { opType: "MatMul", name: "mm", inputs: ["a", "w"], outputs: ["c"] },
        { opType: "Pad", inputs: ["c", "pads"], outputs: ["d"], attrs: [{ name: "ks", ints: [3, -1] }, { name: "axis", int: 1 }, { name: "alpha", float: 0.5 }] },
      ],
      initializers: [
        { name: "w", dims: [3, 2], data: w },
        { name: "pads", dims: [2], data: int64s([0, -1]) },
      ],
      inputs: [{ name: "a", elemType: DataType.FLOAT, dims: [4, 3] }],
      outputs: [{ name: "d", elemType: DataType.FLOAT, dims: [4, 2] }],
    },
  });
  const model = decode(bytes);

  it("ModelProto: ir_version 8, opset_import {domain '', version 13}, producer", () => {
    expect(int(model, 1)).toBe(8n);
    const opset = msgs(model, 8);
    expect(opset).toHaveLength(1);
    expect(str(opset[0], 1)).toBe("");
    expect(int(opset[0], 2)).toBe(13n);
    expect(str(model, 2)).toBe("zoa-ts bench");
  });

  const graph = msgs(model, 7)[0];
  it("GraphProto: name, nodes in order with inputs, outputs, op types", () => {
    expect(str(graph, 2)).toBe("g");
    const nodes = msgs(graph, 1);
    expect(nodes.map((n) => str(n, 4))).toEqual(["MatMul", "Pad"]);
    expect(str(nodes[0], 3)).toBe("mm");
    expect(nodes[0].get(1)?.map((v) => new TextDecoder().decode(v as Uint8Array))).toEqual(["a", "w"]);
    expect(str(nodes[1], 2)).toBe("d");
  });

  it("AttributeProto: ints (type 7, unpacked, two's complement), int (type 2), float (type 1)", () => {
    const attrs = msgs(msgs(graph, 1)[1], 5);
    expect(attrs.map((a) => str(a, 1))).toEqual(["ks", "axis", "alpha"]);
    expect(attrs[0].get(8)?.map((v) => BigInt.asIntN(64, v as bigint))).toEqual([3n, -1n]);
    expect(int(attrs[0], 20)).toBe(7n);
    expect(int(attrs[1], 3)).toBe(1n);
    expect(int(attrs[1], 20)).toBe(2n);
    expect(attrs[2].get(2)?.[0]).toBe(0.5);
    expect(int(attrs[2], 20)).toBe(1n);
  });

  it("TensorProto: dims, data_type, name, raw_data little-endian", () => {
    const [tw, tp] = msgs(graph, 5);
    expect(tw.get(1)).toEqual([3n, 2n]);
    expect(int(tw, 2)).toBe(BigInt(DataType.FLOAT));
    expect(str(tw, 8)).toBe("w");
    const raw = tw.get(9)?.[0] as Uint8Array;
    expect(Array.from(new Float32Array(raw.slice().buffer))).toEqual(Array.from(w));
    expect(int(tp, 2)).toBe(BigInt(DataType.INT64));
    expect(Array.from(new BigInt64Array((tp.get(9)?.[0] as Uint8Array).slice().buffer))).toEqual([0n, -1n]);
  });

  it("ValueInfoProto: name and TypeProto.tensor_type {elem_type, shape.dim[].dim_value}", () => {
    const [input] = msgs(graph, 11);
    expect(str(input, 1)).toBe("a");
    const tensorType = msgs(msgs(input, 2)[0], 1)[0];
    expect(int(tensorType, 1)).toBe(BigInt(DataType.FLOAT));
    const dims = msgs(msgs(tensorType, 2)[0], 1).map((d) => int(d, 1));
    expect(dims).toEqual([4n, 3n]);
    expect(str(msgs(graph, 12)[0], 1)).toBe("d");
  });

  it("rejects an initializer whose data does not fill its dims", () => {
    expect(() =>
      encodeModel({ graph: { name: "g", nodes: [], initializers: [{ name: "w", dims: [2, 2], data: new Float32Array(3) }], inputs: [], outputs: [] } }),
    ).toThrow(/'w' has 3 values/);
  });
});
