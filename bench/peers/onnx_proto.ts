// A minimal protobuf encoder for the subset of ONNX's ModelProto the bench needs (onnx/onnx.proto, IR 8):
// a graph of nodes with int / ints / float attributes, float32 / int64 initializers (raw_data) and tensor
// inputs / outputs of fixed shape. Enough to hand onnxruntime-node a GEMM, a conv or a CIFAR ResNet built in
// TypeScript, without Python or the onnx package at bench time.
// Wire format (protobuf.dev/programming-guides/encoding): every field is key = (field << 3) | wireType, then
// a varint (type 0), 4 little-endian bytes (type 5) or a varint length and that many bytes (type 2). Negative
// int64 values are varints of their 64-bit two's complement (10 bytes). Repeated int64 fields are written
// unpacked (proto2 default for `ints` and `dims`).

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType values used here. */
const AttrType = { FLOAT: 1, INT: 2, INTS: 7 } as const;

/** Growable byte buffer with the protobuf primitives. */
export class ProtoWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** Unsigned LEB128 of the 64-bit two's complement of v (an integer number or bigint). */
  rawVarint(v: number | bigint): this {
    if (typeof v === "number" && !Number.isSafeInteger(v)) throw new RangeError(`ProtoWriter: varint ${v} is not a safe integer`);
    let u = BigInt.asUintN(64, BigInt(v));
    this.reserve(10);
    do {
      let byte = Number(u & 0x7fn);
      u >>= 7n;
      if (u !== 0n) byte |= 0x80;
      this.buf[this.len++] = byte;
    } while (u !== 0n);
    return this;
  }

  private key(field: number, wire: number): void {
    this.rawVarint(field * 8 + wire);
  }

  /** int32 / int64 / enum / bool field. */
  varint(field: number, v: number | bigint): this {
    this.key(field, WIRE_VARINT);
    return this.rawVarint(v);
  }

  /** float field (4 bytes, little-endian IEEE 754). */
  float(field: number, v: number): this {
    this.key(field, WIRE_FIXED32);
    this.reserve(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 4).setFloat32(0, v, true);
    this.len += 4;
    return this;
  }

  /** bytes or embedded message field. */
  bytes(field: number, b: Uint8Array): this {
    this.key(field, WIRE_LEN);
    this.rawVarint(b.length);
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

// ---- ONNX messages (field numbers from onnx.proto) ----

export type Attr = { name: string; int: number } | { name: string; ints: readonly number[] } | { name: string; float: number };

export interface NodeSpec {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  attrs?: readonly Attr[];
}

export interface InitializerSpec {
  name: string;
  dims: readonly number[];
  /** FLOAT from Float32Array, INT64 from number[] / BigInt64Array, INT8 / UINT8 / INT32 from their arrays. */
  data: Float32Array | BigInt64Array | Int32Array | Int8Array | Uint8Array;
}

export interface ValueSpec {
  name: string;
  elemType: DataTypeCode;
  dims: readonly number[];
}

export interface GraphSpec {
  name: string;
  nodes: readonly NodeSpec[];
  initializers: readonly InitializerSpec[];
  inputs: readonly ValueSpec[];
  outputs: readonly ValueSpec[];
}

export interface ModelSpec {
  graph: GraphSpec;
  /** ai.onnx opset version (default 17). */
  opset?: number;
  /** ModelProto.ir_version (default 8: onnx 1.10+, read by onnxruntime >= 1.10). */
  irVersion?: number;
  producer?: string;
}

/** AttributeProto: name = 1, f = 2, i = 3, ints = 8, type = 20. */
export function encodeAttribute(a: Attr): Uint8Array {
  const w = new ProtoWriter().string(1, a.name);
  if ("int" in a) w.varint(3, a.int).varint(20, AttrType.INT);
  else if ("ints" in a) {
    for (const v of a.ints) w.varint(8, v);
    w.varint(20, AttrType.INTS);
  } else w.float(2, a.float).varint(20, AttrType.FLOAT);
  return w.finish();
}

/** NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5. */
export function encodeNode(n: NodeSpec): Uint8Array {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.opType);
  for (const a of n.attrs ?? []) w.bytes(5, encodeAttribute(a));
  return w.finish();
}

function dataTypeOf(data: InitializerSpec["data"]): DataTypeCode {
  if (data instanceof Float32Array) return DataType.FLOAT;
  if (data instanceof BigInt64Array) return DataType.INT64;
  if (data instanceof Int32Array) return DataType.INT32;
  if (data instanceof Int8Array) return DataType.INT8;
  return DataType.UINT8;
}

/** TensorProto: dims = 1, data_type = 2, name = 8, raw_data = 9 (little-endian, row-major). */
export function encodeTensor(t: InitializerSpec): Uint8Array {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (count !== t.data.length) throw new RangeError(`encodeTensor: '${t.name}' has ${t.data.length} values for dims [${t.dims.join(", ")}]`);
  const w = new ProtoWriter();
  for (const d of t.dims) w.varint(1, d);
  w.varint(2, dataTypeOf(t.data));
  w.string(8, t.name);
  // NOTE: typed arrays are little-endian on every platform Node supports (x64, arm64), as raw_data requires.
  w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  return w.finish();
}

/** ValueInfoProto { name = 1, type = 2: TypeProto { tensor_type = 1: { elem_type = 1, shape = 2: { dim = 1: { dim_value = 1 } } } } }. */
export function encodeValueInfo(v: ValueSpec): Uint8Array {
  const shape = new ProtoWriter();
  for (const d of v.dims) shape.bytes(1, new ProtoWriter().varint(1, d).finish());
  const tensorType = new ProtoWriter().varint(1, v.elemType).bytes(2, shape.finish()).finish();
  const type = new ProtoWriter().bytes(1, tensorType).finish();
  return new ProtoWriter().string(1, v.name).bytes(2, type).finish();
}

/** GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12. */
export function encodeGraph(g: GraphSpec): Uint8Array {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.bytes(1, encodeNode(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.bytes(5, encodeTensor(t));
  for (const v of g.inputs) w.bytes(11, encodeValueInfo(v));
  for (const v of g.outputs) w.bytes(12, encodeValueInfo(v));
  return w.finish();
}

/** ModelProto: ir_version = 1, producer_name = 2, graph = 7, opset_import = 8 (OperatorSetIdProto: domain = 1, version = 2). */
export function encodeModel(m: ModelSpec): Uint8Array {
  const opset = new ProtoWriter().string(1, "").varint(2, m.opset ?? 17).finish();
  return new ProtoWriter()
    .varint(1, m.irVersion ?? 8)
    .string(2, m.producer ?? "zoa-ts bench")
    .bytes(7, encodeGraph(m.graph))
    .bytes(8, opset)
    .finish();
}

/** int64 initializer data from plain numbers. */
export function int64s(values: readonly number[]): BigInt64Array {
  return BigInt64Array.from(values, (v) => BigInt(v));
}
