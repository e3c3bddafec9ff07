// Safetensors read/write (format: https://github.com/huggingface/safetensors, safetensors/src/tensor.rs).
// Layout: u64 LE header length N | N bytes of UTF-8 JSON header | data region. The header maps each tensor name to
// {dtype, shape, data_offsets: [begin, end]} (offsets relative to the data region) plus an optional
// "__metadata__": {string: string}. Every malformed input raises SafetensorsError naming the file and tensor.
// Bytes only (browser-safe); reading and writing files is in safetensors.ts.
import {
  DTYPE_BYTES,
  HOST_LITTLE_ENDIAN,
  bf16BitsToFloat32,
  f16DecodeTable,
  DATA_KIND,
  isDataFor,
  isSafeDType,
  type SafeDType,
} from "./safetensors_dtype.js";

export {
  DTYPE_BYTES,
  bf16BitsToFloat32,
  f16BitsToFloat32,
  float32ToBf16Bits,
  float32ToF16Bits,
  type SafeDType,
} from "./safetensors_dtype.js";

/** Same cap as the reference reader (MAX_HEADER_SIZE in safetensors/src/tensor.rs). */
export const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = "__metadata__";

export class SafetensorsError extends Error {
  /** `message` is prefixed with the file and, when given, the tensor: `model.st: tensor "w": ...`. */
  constructor(
    readonly file: string,
    message: string,
    readonly tensor?: string,
  ) {
    super(tensor === undefined ? `${file}: ${message}` : `${file}: tensor "${tensor}": ${message}`);
    this.name = "SafetensorsError";
  }
}

export interface SafeTensorEntry {
  readonly name: string;
  readonly dtype: SafeDType;
  readonly shape: readonly number[];
  /** View of this tensor's byte range in the file buffer (no copy); little-endian elements, maybe unaligned. */
  readonly bytes: Uint8Array;
}

export interface SafetensorsFile {
  readonly file: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly tensors: ReadonlyMap<string, SafeTensorEntry>;
  /** The named tensor; throws SafetensorsError naming the tensor and the file when it is absent. */
  get(name: string): SafeTensorEntry;
}

/** Data to write. F16 and BF16 take raw bit patterns (see float32ToF16Bits / float32ToBf16Bits). */
export type WritableTensor = {
  dtype: SafeDType;
  shape: readonly number[];
  data: Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array | Uint16Array;
};

function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "string" ? `string ${JSON.stringify(v).slice(0, 40)}` : typeof v;
}

/** Element count of a validated shape, or null when it exceeds 2^53 (cannot match any real byte range). */
function elementCount(shape: readonly number[]): number | null {
  if (shape.includes(0)) return 0;
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (n > Number.MAX_SAFE_INTEGER) return null;
  }
  return n;
}

function isIndex(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function parseMetadata(raw: unknown, file: string): Record<string, string> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new SafetensorsError(file, `field ${METADATA_KEY} must be an object of strings, got ${kindOf(raw)}`);
  }
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== "string") {
      throw new SafetensorsError(file, `field ${METADATA_KEY}.${k} must be a string, got ${kindOf(v)}`);
    }
    out[k] = v;
  }
  return out;
}

interface RawEntry {
  name: string;
  dtype: SafeDType;
  shape: number[];
  begin: number;
  end: number;
}

/** Validates one header entry against the data region size `dataLen`. */
function parseEntry(name: string, raw: unknown, dataLen: number, file: string): RawEntry {
  const fail = (msg: string): never => {
    throw new SafetensorsError(file, msg, name);
  };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return fail(`entry must be an object, got ${kindOf(raw)}`);
  const r = raw as Record<string, unknown>;
  for (const field of ["dtype", "shape", "data_offsets"]) {
    if (!Object.prototype.hasOwnProperty.call(r, field)) fail(`missing field ${field}`);
  }
  const { dtype, shape, data_offsets: offsets } = r;
  if (typeof dtype !== "string") return fail(`field dtype must be a string, got ${kindOf(dtype)}`);
  if (!isSafeDType(dtype)) return fail(`field dtype: unknown dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(DTYPE_BYTES).join(", ")})`);
  if (!Array.isArray(shape) || !shape.every(isIndex)) {
    return fail(`field shape must be an array of non-negative integers, got ${JSON.stringify(shape)?.slice(0, 80)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) {
    return fail(`field data_offsets must be two non-negative integers, got ${JSON.stringify(offsets)?.slice(0, 80)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) fail(`field data_offsets: begin ${begin} > end ${end}`);
  if (end > dataLen) fail(`field data_offsets [${begin}, ${end}] outside the data region of ${dataLen} bytes`);
  const count = elementCount(shape);
  const want = count === null ? null : count * DTYPE_BYTES[dtype];
  if (want !== end - begin) {
    fail(`shape [${shape.join(", ")}] x ${dtype} needs ${want ?? "over 2^53"} bytes but data_offsets span ${end - begin}`);
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

/** Rejects overlapping byte ranges. Gaps are tolerated (the spec forbids them; old writers may leave them). */
function checkOverlaps(entries: RawEntry[], file: string): void {
  // Empty ranges cannot overlap anything, so only non-empty ones are compared, sorted by begin.
  const sorted = entries.filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const cur = sorted[i];
    if (cur.begin < prev.end) {
      throw new SafetensorsError(
        file,
        `field data_offsets [${cur.begin}, ${cur.end}] overlaps tensor "${prev.name}" [${prev.begin}, ${prev.end}]`,
        cur.name,
      );
    }
  }
}

/**
 * Parses a safetensors file held in memory. Entries view `bytes` without copying.
 * @example const st = parseSafetensors(readFileSync("m.safetensors")); toFloat32(st.get("conv1.weight"));
 */
export function parseSafetensors(bytes: Uint8Array, file = "<memory>"): SafetensorsFile {
  if (bytes.length < 8) throw new SafetensorsError(file, `file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError(file, `header length ${n64} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(n64);
  if (8 + n > bytes.length) {
    throw new SafetensorsError(file, `header length ${n} runs past the end of the file (${bytes.length} bytes)`);
  }

  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new SafetensorsError(file, `header is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new SafetensorsError(file, `header must be a JSON object, got ${kindOf(header)}`);
  }

  const data = bytes.subarray(8 + n);
  let metadata: Record<string, string> = Object.create(null);
  const entries: RawEntry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === METADATA_KEY) metadata = parseMetadata(raw, file);
    else entries.push(parseEntry(name, raw, data.length, file));
  }
  checkOverlaps(entries, file);

  const tensors = new Map<string, SafeTensorEntry>();
  for (const e of entries) {
    tensors.set(e.name, { name: e.name, dtype: e.dtype, shape: e.shape, bytes: data.subarray(e.begin, e.end) });
  }
  return {
    file,
    metadata,
    tensors,
    get(name: string): SafeTensorEntry {
      const t = tensors.get(name);
      if (t === undefined) throw new SafetensorsError(file, `no such tensor (file has ${tensors.size})`, name);
      return t;
    },
  };
}

function elementsOf(entry: SafeTensorEntry): number {
  return entry.bytes.length / DTYPE_BYTES[entry.dtype];
}

function entryView(entry: SafeTensorEntry): DataView {
  return new DataView(entry.bytes.buffer, entry.bytes.byteOffset, entry.bytes.byteLength);
}

/** Copies entry bytes into `out`'s buffer when the host is little-endian (fast path; also fixes alignment). */
function copyLE(entry: SafeTensorEntry, out: { buffer: ArrayBufferLike }): boolean {
  if (!HOST_LITTLE_ENDIAN) return false;
  new Uint8Array(out.buffer).set(entry.bytes);
  return true;
}

/**
 * A fresh Float32Array of any dtype's values. NOTE: I64 goes through Number, exact only below 2^53 in magnitude;
 * I32 beyond 2^24 and I64 round to the nearest float32.
 * @example toFloat32(st.get("linear.weight")) // Float32Array(640)
 */
export function toFloat32(entry: SafeTensorEntry): Float32Array {
  const n = elementsOf(entry);
  const out = new Float32Array(n);
  const dv = entryView(entry);
  const dtype = entry.dtype;
  switch (dtype) {
    case "F32":
      if (!copyLE(entry, out)) for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
      break;
    case "F16": {
      const table = f16DecodeTable();
      for (let i = 0; i < n; i++) out[i] = table[dv.getUint16(2 * i, true)];
      break;
    }
    case "BF16":
      for (let i = 0; i < n; i++) out[i] = bf16BitsToFloat32(dv.getUint16(2 * i, true));
      break;
    case "I8":
      for (let i = 0; i < n; i++) out[i] = dv.getInt8(i);
      break;
    case "U8":
      for (let i = 0; i < n; i++) out[i] = entry.bytes[i];
      break;
    case "I32":
      for (let i = 0; i < n; i++) out[i] = dv.getInt32(4 * i, true);
      break;
    case "I64":
      for (let i = 0; i < n; i++) out[i] = Number(dv.getBigInt64(8 * i, true));
      break;
    default:
      dtype satisfies never;
  }
  return out;
}

function expectDType(entry: SafeTensorEntry, want: SafeDType, fn: string): void {
  if (entry.dtype !== want) throw new SafetensorsError("<tensor>", `${fn} needs dtype ${want}, got ${entry.dtype}`, entry.name);
}

/** A fresh Int8Array of an I8 tensor. */
export function toInt8(entry: SafeTensorEntry): Int8Array {
  expectDType(entry, "I8", "toInt8");
  return new Int8Array(entry.bytes.slice().buffer);
}

/** A fresh Uint8Array of a U8 tensor. */
export function toUint8(entry: SafeTensorEntry): Uint8Array {
  expectDType(entry, "U8", "toUint8");
  return entry.bytes.slice();
}

/** A fresh Int32Array of an I32 tensor. */
export function toInt32(entry: SafeTensorEntry): Int32Array {
  expectDType(entry, "I32", "toInt32");
  const n = elementsOf(entry);
  const out = new Int32Array(n);
  if (!copyLE(entry, out)) {
    const dv = entryView(entry);
    for (let i = 0; i < n; i++) out[i] = dv.getInt32(4 * i, true);
  }
  return out;
}

/** A fresh BigInt64Array of an I64 tensor (exact, unlike toFloat32). */
export function toBigInt64(entry: SafeTensorEntry): BigInt64Array {
  expectDType(entry, "I64", "toBigInt64");
  const n = elementsOf(entry);
  const out = new BigInt64Array(n);
  if (!copyLE(entry, out)) {
    const dv = entryView(entry);
    for (let i = 0; i < n; i++) out[i] = dv.getBigInt64(8 * i, true);
  }
  return out;
}

/** A fresh Uint16Array of the raw bit patterns of an F16 or BF16 tensor. */
export function toUint16Bits(entry: SafeTensorEntry): Uint16Array {
  if (entry.dtype !== "F16" && entry.dtype !== "BF16") {
    throw new SafetensorsError("<tensor>", `toUint16Bits needs dtype F16 or BF16, got ${entry.dtype}`, entry.name);
  }
  const n = elementsOf(entry);
  const out = new Uint16Array(n);
  if (!copyLE(entry, out)) {
    const dv = entryView(entry);
    for (let i = 0; i < n; i++) out[i] = dv.getUint16(2 * i, true);
  }
  return out;
}

/** Encodes tensors as safetensors bytes; `file` names the destination in errors. */
export function encodeSafetensors(tensors: Record<string, WritableTensor>, metadata: Record<string, string> | undefined, file: string): Uint8Array {
  const names = Object.keys(tensors).sort();
  const parts: string[] = [];
  if (metadata !== undefined) parts.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(parseMetadata(metadata, file))}`);
  let offset = 0;
  const layout: { t: WritableTensor; begin: number }[] = [];
  for (const name of names) {
    const t = tensors[name];
    const fail = (msg: string): never => {
      throw new SafetensorsError(file, msg, name);
    };
    if (name === METADATA_KEY) fail(`the name ${METADATA_KEY} is reserved`);
    if (!isSafeDType(t.dtype)) fail(`unknown dtype ${JSON.stringify(t.dtype)}`);
    if (!Array.isArray(t.shape) || !t.shape.every(isIndex)) fail(`shape must be non-negative integers, got ${JSON.stringify(t.shape)}`);
    if (!isDataFor(t.dtype, t.data)) fail(`dtype ${t.dtype} needs data as ${DATA_KIND[t.dtype]}`);
    const count = elementCount(t.shape);
    if (count !== t.data.length) fail(`shape [${t.shape.join(", ")}] has ${count} elements but data has ${t.data.length}`);
    const size = t.data.length * DTYPE_BYTES[t.dtype];
    const entry = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    parts.push(`${JSON.stringify(name)}:${JSON.stringify(entry)}`); // NOTE: string-built so "__proto__" stays a key
    layout.push({ t, begin: offset });
    offset += size;
  }
  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  const n = Math.ceil(json.length / 8) * 8; // pad with spaces so the data region starts 8-byte aligned
  const out = new Uint8Array(8 + n + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + n);
  for (const { t, begin } of layout) {
    const size = DTYPE_BYTES[t.dtype];
    const src = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const at = 8 + n + begin;
    if (HOST_LITTLE_ENDIAN || size === 1) out.set(src, at);
    else for (let i = 0; i < src.length; i++) out[at + i] = src[i - (i % size) + size - 1 - (i % size)]; // byte swap
  }
  return out;
}

/**
 * Encodes tensors (laid out in sorted name order) and optional string metadata as safetensors bytes.
 * @example serializeSafetensors({ w: { dtype: "F32", shape: [2], data: new Float32Array([1, 2]) } })
 */
export function serializeSafetensors(tensors: Record<string, WritableTensor>, metadata?: Record<string, string>): Uint8Array {
  return encodeSafetensors(tensors, metadata, "<serialize>");
}
