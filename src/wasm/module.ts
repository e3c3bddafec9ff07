// Assembles a WebAssembly module from FunctionBuilders: the type, import (one memory), function, export
// and code sections, in the order §5.5.16 requires. Function types are deduplicated.
// Spec: WebAssembly Core Specification 2.0, §5.5 "Modules".
import { type FunctionBuilder, VALTYPE, nameBytes, uleb128, vecBytes } from "./emitter.js";

/** Section ids (§5.5.2). */
const SECTION = { type: 1, import: 2, function: 3, export: 7, code: 10 } as const;
/** Import / export descriptor kinds (§5.5.5, §5.5.10). */
const EXTERN = { func: 0x00, memory: 0x02 } as const;

export interface MemoryImport {
  module: string;
  name: string;
  /** In 64 KiB pages. */
  initial: number;
  maximum?: number;
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb128(content.length), ...content];
}

/** Limits (§5.3.7): 0x00 min, or 0x01 min max. */
function limits(min: number, max?: number): number[] {
  return max === undefined ? [0x00, ...uleb128(min)] : [0x01, ...uleb128(min), ...uleb128(max)];
}

export class ModuleBuilder {
  private readonly types: number[][] = [];
  private readonly typeKeys = new Map<string, number>();
  private readonly funcs: { type: number; fn: FunctionBuilder; exportName: string | null }[] = [];
  private memory: MemoryImport | null = null;

  /** Imports the module's one linear memory (so JS can own, grow and view it). */
  importMemory(mem: MemoryImport): this {
    this.memory = mem;
    return this;
  }

  /** Adds a function, exported under `exportName` unless null; returns its function index. */
  addFunction(fn: FunctionBuilder, exportName: string | null = null): number {
    // Function type (§5.3.6): 0x60, parameter vec, result vec.
    const sig = [0x60, ...vecBytes(fn.paramTypes.map((t) => [VALTYPE[t]])), ...vecBytes(fn.resultTypes.map((t) => [VALTYPE[t]]))];
    const key = sig.join(",");
    let type = this.typeKeys.get(key);
    if (type === undefined) {
      type = this.types.length;
      this.types.push(sig);
      this.typeKeys.set(key, type);
    }
    this.funcs.push({ type, fn, exportName });
    return this.funcs.length - 1; // no imported functions, so indices start at 0 (§5.5.1)
  }

  build(): Uint8Array<ArrayBuffer> {
    const bytes: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]; // magic "\0asm", version 1 (§5.5.16)
    bytes.push(...section(SECTION.type, vecBytes(this.types)));
    if (this.memory) {
      const m = this.memory;
      const imp = [...nameBytes(m.module), ...nameBytes(m.name), EXTERN.memory, ...limits(m.initial, m.maximum)];
      bytes.push(...section(SECTION.import, vecBytes([imp])));
    }
    bytes.push(...section(SECTION.function, vecBytes(this.funcs.map((f) => uleb128(f.type)))));
    const exports = this.funcs.flatMap((f, i) => (f.exportName === null ? [] : [[...nameBytes(f.exportName), EXTERN.func, ...uleb128(i)]]));
    bytes.push(...section(SECTION.export, vecBytes(exports)));
    // Code section (§5.5.13): each entry is its body's byte size, then the body.
    const bodies = this.funcs.map((f) => {
      const body = f.fn.finish();
      return [...uleb128(body.length), ...body];
    });
    bytes.push(...section(SECTION.code, vecBytes(bodies)));
    return new Uint8Array(bytes);
  }
}
