// A small emitter of WebAssembly function bodies, written in TypeScript so kernels can be generated at
// run time (no other language, no prebuilt .wasm). This file has the value encodings (LEB128, floats,
// names, value types) and FunctionBuilder; module.ts assembles sections; opcodes.ts is the instruction
// table; features.ts probes what the engine accepts.
// Spec: WebAssembly Core Specification 2.0, chapter 5 "Binary Format".
import { type Imm, OPS, type OpName } from "./opcodes.js";

/** Unsigned LEB128 (§5.2.2): 7 bits per byte, low group first, high bit set on every byte but the last. */
export function uleb128(value: number): number[] {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`uleb128: ${value} is not a non-negative integer`);
  const out: number[] = [];
  let v = value;
  do {
    let byte = v % 128;
    v = Math.floor(v / 128);
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 (§5.2.2): two's complement, stop once the remaining bits equal the sign bit of the last byte. */
export function sleb128(value: number): number[] {
  if (!Number.isSafeInteger(value)) throw new RangeError(`sleb128: ${value} is not a safe integer`);
  const out: number[] = [];
  let v = value;
  for (;;) {
    const byte = ((v % 128) + 128) % 128; // low 7 bits of two's complement
    v = Math.floor(v / 128); // arithmetic shift right by 7
    const signBit = byte & 0x40;
    if ((v === 0 && !signBit) || (v === -1 && signBit)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** IEEE 754 binary32, little-endian (§5.2.3). */
export function f32Bytes(x: number): number[] {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setFloat32(0, x, true);
  return [...new Uint8Array(dv.buffer)];
}

/** IEEE 754 binary64, little-endian (§5.2.3). */
export function f64Bytes(x: number): number[] {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x, true);
  return [...new Uint8Array(dv.buffer)];
}

/** A name (§5.2.4): byte length as u32, then UTF-8. */
export function nameBytes(s: string): number[] {
  const utf8 = new TextEncoder().encode(s);
  return [...uleb128(utf8.length), ...utf8];
}

/** A vector (§5.1.3): element count as u32, then the elements. */
export function vecBytes(items: readonly (readonly number[])[]): number[] {
  return [...uleb128(items.length), ...items.flat()];
}

export type ValType = "i32" | "i64" | "f32" | "f64" | "v128";

/** Value type bytes (§5.3.1 number types, §5.3.2 vector type). */
export const VALTYPE: Record<ValType, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };

/** A parameter or local of a function under construction. */
export interface Local {
  readonly index: number;
  readonly type: ValType;
}

/** A structured-control label (block, loop or if) that br/br_if can target by identity. */
export interface Label {
  readonly level: number;
}

/** The immediate arguments FunctionBuilder.op takes for an instruction, derived from its Imm kind. */
type ImmArgsOf<I extends Imm> = I extends "none" | "memidx"
  ? []
  : I extends "blocktype"
    ? [result?: ValType]
    : I extends "label" | "func" | "lane"
      ? [index: number]
      : I extends "local"
        ? [local: Local]
        : I extends "memarg"
          ? [offset?: number, alignLog2?: number]
          : I extends "memarg_lane"
            ? [offset: number, lane: number]
            : I extends "i32" | "f32" | "f64"
              ? [value: number]
              : I extends "v128" | "shuffle"
                ? [bytes: ArrayLike<number>]
                : never;
export type ImmArgs<N extends OpName> = ImmArgsOf<(typeof OPS)[N]["imm"]>;

function memarg(name: string, width: number, offset = 0, alignLog2?: number): number[] {
  const natural = Math.log2(width);
  const align = alignLog2 ?? natural;
  // §3.4.6 validation: the alignment hint must not exceed the natural alignment.
  if (align > natural || align < 0) throw new RangeError(`${name}: alignment 2^${align} exceeds natural 2^${natural}`);
  return [...uleb128(align), ...uleb128(offset)];
}

/**
 * Builds one function body (§5.5.13 code entry): declare locals, then append instructions.
 * Every instruction goes through `op(name, ...immediates)`; the rest are short names for common ones.
 * @example
 *   const f = new FunctionBuilder(["i32", "i32"], ["i32"]);
 *   f.get(f.params[0]).get(f.params[1]).op("i32.add");
 *   const body = f.finish();
 */
export class FunctionBuilder {
  readonly params: readonly Local[];
  private readonly locals: ValType[] = [];
  private readonly code: number[] = [];
  private depth = 0;

  constructor(
    readonly paramTypes: readonly ValType[],
    readonly resultTypes: readonly ValType[],
  ) {
    this.params = paramTypes.map((type, index) => ({ index, type }));
  }

  /** Declares a new local (zero-initialised, §4.4.10). */
  local(type: ValType): Local {
    const index = this.paramTypes.length + this.locals.length;
    this.locals.push(type);
    return { index, type };
  }

  op<N extends OpName>(name: N, ...args: ImmArgs<N>): this {
    const info: { prefix?: number; code: number; imm: Imm; width?: number } = OPS[name];
    if (info.prefix !== undefined) this.code.push(info.prefix, ...uleb128(info.code));
    else this.code.push(info.code);
    const a = args as readonly unknown[];
    switch (info.imm) {
      case "none":
        break;
      case "blocktype":
        this.code.push(a[0] === undefined ? 0x40 : VALTYPE[a[0] as ValType]);
        this.depth++;
        break;
      case "label":
      case "func":
        this.code.push(...uleb128(a[0] as number));
        break;
      case "lane":
        this.code.push(a[0] as number);
        break;
      case "local":
        this.code.push(...uleb128((a[0] as Local).index));
        break;
      case "memarg":
        this.code.push(...memarg(name, info.width ?? 1, a[0] as number | undefined, a[1] as number | undefined));
        break;
      case "memarg_lane":
        this.code.push(...memarg(name, info.width ?? 1, a[0] as number), a[1] as number);
        break;
      case "memidx":
        this.code.push(0x00);
        break;
      case "i32":
        this.code.push(...sleb128((a[0] as number) | 0)); // i32 wraps: 0xffffffff is -1
        break;
      case "f32":
        this.code.push(...f32Bytes(a[0] as number));
        break;
      case "f64":
        this.code.push(...f64Bytes(a[0] as number));
        break;
      case "v128":
      case "shuffle": {
        const bytes = a[0] as ArrayLike<number>;
        if (bytes.length !== 16) throw new RangeError(`${name}: needs 16 immediate bytes, got ${bytes.length}`);
        this.code.push(...Array.from(bytes));
        break;
      }
      default:
        info.imm satisfies never;
    }
    if (name === "end") this.depth--;
    return this;
  }

  get(l: Local): this {
    return this.op("local.get", l);
  }
  set(l: Local): this {
    return this.op("local.set", l);
  }
  tee(l: Local): this {
    return this.op("local.tee", l);
  }
  i32(value: number): this {
    return this.op("i32.const", value);
  }

  /** Opens a block; `br(label)` jumps past its `end`. */
  block(result?: ValType): Label {
    this.op("block", result);
    return { level: this.depth };
  }
  /** Opens a loop; `br(label)` jumps back to its start. */
  loop(result?: ValType): Label {
    this.op("loop", result);
    return { level: this.depth };
  }
  /** Opens an if (pops an i32 condition). */
  if(result?: ValType): Label {
    this.op("if", result);
    return { level: this.depth };
  }
  else(): this {
    return this.op("else");
  }
  end(): this {
    return this.op("end");
  }
  /** br / br_if to an enclosing label: the relative depth is computed from the open blocks (§5.4.1). */
  br(label: Label): this {
    return this.op("br", this.relativeDepth(label));
  }
  brIf(label: Label): this {
    return this.op("br_if", this.relativeDepth(label));
  }

  private relativeDepth(label: Label): number {
    const d = this.depth - label.level;
    if (d < 0) throw new Error(`br: label is not enclosing (its block already ended)`);
    return d;
  }

  /** The code entry body (§5.5.13): local declarations, run-length grouped by type, then the expression. */
  finish(): number[] {
    if (this.depth !== 0) throw new Error(`FunctionBuilder: ${this.depth} block(s) left open`);
    const groups: number[][] = [];
    for (let i = 0; i < this.locals.length; ) {
      let j = i;
      while (j < this.locals.length && this.locals[j] === this.locals[i]) j++;
      groups.push([...uleb128(j - i), VALTYPE[this.locals[i]]]);
      i = j;
    }
    return [...vecBytes(groups), ...this.code, OPS.end.code];
  }
}
