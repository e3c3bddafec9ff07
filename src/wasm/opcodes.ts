// The instruction table of the emitter: one row per WebAssembly instruction we emit, keyed by its
// text-format name. Each row gives the encoding (optional prefix byte, opcode) and the kind of immediate.
// Spec: WebAssembly Core Specification 2.0, §5.4 "Instructions" (binary format):
//   §5.4.1 control, §5.4.3 parametric, §5.4.4 variable, §5.4.6 memory, §5.4.7 numeric,
//   §5.4.8 vector (prefix 0xFD, then the opcode as a u32 LEB128, so 0xE6 is encoded FD E6 01).
// Relaxed SIMD (opcodes 0x100-0x113 after 0xFD): WebAssembly/relaxed-simd proposals/relaxed-simd/Overview.md.
// To add an instruction (e.g. i16x8.extend_low_i8x16_s for int8 GEMM), add one row; nothing else changes.

/** The immediate operands an instruction takes, decoded by FunctionBuilder.op. */
export type Imm =
  | "none"
  | "blocktype" // §5.4.1: 0x40 (empty) or a value type
  | "label" // §5.4.1: relative depth, u32
  | "local" // §5.4.4: local index, u32
  | "func" // §5.4.1: function index, u32
  | "memarg" // §5.4.6: align (log2, u32) then offset (u32)
  | "memidx" // §5.4.6: memory.size/grow take a reserved 0x00 byte
  | "i32" // §5.4.7: signed LEB128
  | "f32" // §5.4.7: 4 bytes little-endian IEEE 754
  | "f64" // §5.4.7: 8 bytes
  | "v128" // §5.4.8: 16 raw bytes
  | "lane" // §5.4.8: one lane-index byte
  | "memarg_lane" // §5.4.8: memarg then lane byte (v128.load32_lane ...)
  | "shuffle"; // §5.4.8: 16 lane-index bytes

export interface OpInfo {
  /** 0xFC (saturating truncation, bulk memory) or 0xFD (vector); absent for single-byte opcodes. */
  readonly prefix?: 0xfc | 0xfd;
  readonly code: number;
  readonly imm: Imm;
  /** Bytes accessed by a memory instruction: its natural alignment is log2(width) (§3.3.7). */
  readonly width?: number;
}

export const OPS = {
  // §5.4.1 Control instructions
  unreachable: { code: 0x00, imm: "none" },
  nop: { code: 0x01, imm: "none" },
  block: { code: 0x02, imm: "blocktype" },
  loop: { code: 0x03, imm: "blocktype" },
  if: { code: 0x04, imm: "blocktype" },
  else: { code: 0x05, imm: "none" },
  end: { code: 0x0b, imm: "none" },
  br: { code: 0x0c, imm: "label" },
  br_if: { code: 0x0d, imm: "label" },
  return: { code: 0x0f, imm: "none" },
  call: { code: 0x10, imm: "func" },
  // §5.4.3 Parametric instructions
  drop: { code: 0x1a, imm: "none" },
  select: { code: 0x1b, imm: "none" },
  // §5.4.4 Variable instructions
  "local.get": { code: 0x20, imm: "local" },
  "local.set": { code: 0x21, imm: "local" },
  "local.tee": { code: 0x22, imm: "local" },
  // §5.4.6 Memory instructions
  "i32.load": { code: 0x28, imm: "memarg", width: 4 },
  "f32.load": { code: 0x2a, imm: "memarg", width: 4 },
  "f64.load": { code: 0x2b, imm: "memarg", width: 8 },
  "i32.load8_s": { code: 0x2c, imm: "memarg", width: 1 },
  "i32.load8_u": { code: 0x2d, imm: "memarg", width: 1 },
  "i32.load16_s": { code: 0x2e, imm: "memarg", width: 2 },
  "i32.load16_u": { code: 0x2f, imm: "memarg", width: 2 },
  "i32.store": { code: 0x36, imm: "memarg", width: 4 },
  "f32.store": { code: 0x38, imm: "memarg", width: 4 },
  "f64.store": { code: 0x39, imm: "memarg", width: 8 },
  "i32.store8": { code: 0x3a, imm: "memarg", width: 1 },
  "i32.store16": { code: 0x3b, imm: "memarg", width: 2 },
  "memory.size": { code: 0x3f, imm: "memidx" },
  "memory.grow": { code: 0x40, imm: "memidx" },
  // §5.4.7 Numeric instructions: constants
  "i32.const": { code: 0x41, imm: "i32" },
  "f32.const": { code: 0x43, imm: "f32" },
  "f64.const": { code: 0x44, imm: "f64" },
  // i32 comparisons
  "i32.eqz": { code: 0x45, imm: "none" },
  "i32.eq": { code: 0x46, imm: "none" },
  "i32.ne": { code: 0x47, imm: "none" },
  "i32.lt_s": { code: 0x48, imm: "none" },
  "i32.lt_u": { code: 0x49, imm: "none" },
  "i32.gt_s": { code: 0x4a, imm: "none" },
  "i32.gt_u": { code: 0x4b, imm: "none" },
  "i32.le_s": { code: 0x4c, imm: "none" },
  "i32.le_u": { code: 0x4d, imm: "none" },
  "i32.ge_s": { code: 0x4e, imm: "none" },
  "i32.ge_u": { code: 0x4f, imm: "none" },
  // i32 arithmetic
  "i32.add": { code: 0x6a, imm: "none" },
  "i32.sub": { code: 0x6b, imm: "none" },
  "i32.mul": { code: 0x6c, imm: "none" },
  "i32.div_s": { code: 0x6d, imm: "none" },
  "i32.div_u": { code: 0x6e, imm: "none" },
  "i32.rem_s": { code: 0x6f, imm: "none" },
  "i32.rem_u": { code: 0x70, imm: "none" },
  "i32.and": { code: 0x71, imm: "none" },
  "i32.or": { code: 0x72, imm: "none" },
  "i32.xor": { code: 0x73, imm: "none" },
  "i32.shl": { code: 0x74, imm: "none" },
  "i32.shr_s": { code: 0x75, imm: "none" },
  "i32.shr_u": { code: 0x76, imm: "none" },
  // f32 / f64 arithmetic
  "f32.add": { code: 0x92, imm: "none" },
  "f32.sub": { code: 0x93, imm: "none" },
  "f32.mul": { code: 0x94, imm: "none" },
  "f32.div": { code: 0x95, imm: "none" },
  "f64.add": { code: 0xa0, imm: "none" },
  "f64.sub": { code: 0xa1, imm: "none" },
  "f64.mul": { code: 0xa2, imm: "none" },
  "f64.div": { code: 0xa3, imm: "none" },
  "f32.demote_f64": { code: 0xb6, imm: "none" },
  "f64.promote_f32": { code: 0xbb, imm: "none" },
  // §5.4.8 Vector instructions (0xFD prefix): memory
  "v128.load": { prefix: 0xfd, code: 0x00, imm: "memarg", width: 16 },
  "v128.load8x8_s": { prefix: 0xfd, code: 0x01, imm: "memarg", width: 8 },
  "v128.load8x8_u": { prefix: 0xfd, code: 0x02, imm: "memarg", width: 8 },
  "v128.load16x4_s": { prefix: 0xfd, code: 0x03, imm: "memarg", width: 8 },
  "v128.load16x4_u": { prefix: 0xfd, code: 0x04, imm: "memarg", width: 8 },
  "v128.load32_splat": { prefix: 0xfd, code: 0x09, imm: "memarg", width: 4 },
  "v128.load64_splat": { prefix: 0xfd, code: 0x0a, imm: "memarg", width: 8 },
  "v128.store": { prefix: 0xfd, code: 0x0b, imm: "memarg", width: 16 },
  "v128.load32_zero": { prefix: 0xfd, code: 0x5c, imm: "memarg", width: 4 },
  "v128.load64_zero": { prefix: 0xfd, code: 0x5d, imm: "memarg", width: 8 },
  "v128.load32_lane": { prefix: 0xfd, code: 0x56, imm: "memarg_lane", width: 4 },
  "v128.store32_lane": { prefix: 0xfd, code: 0x5a, imm: "memarg_lane", width: 4 },
  "v128.store8_lane": { prefix: 0xfd, code: 0x58, imm: "memarg_lane", width: 1 },
  // vector: constants, shuffles, splats, lanes
  "v128.const": { prefix: 0xfd, code: 0x0c, imm: "v128" },
  "i8x16.shuffle": { prefix: 0xfd, code: 0x0d, imm: "shuffle" },
  "i8x16.swizzle": { prefix: 0xfd, code: 0x0e, imm: "none" },
  "i8x16.splat": { prefix: 0xfd, code: 0x0f, imm: "none" },
  "i16x8.splat": { prefix: 0xfd, code: 0x10, imm: "none" },
  "i32x4.splat": { prefix: 0xfd, code: 0x11, imm: "none" },
  "f32x4.splat": { prefix: 0xfd, code: 0x13, imm: "none" },
  "f64x2.splat": { prefix: 0xfd, code: 0x14, imm: "none" },
  "i16x8.replace_lane": { prefix: 0xfd, code: 0x1a, imm: "lane" },
  "i32x4.extract_lane": { prefix: 0xfd, code: 0x1b, imm: "lane" },
  "i32x4.replace_lane": { prefix: 0xfd, code: 0x1c, imm: "lane" },
  "f32x4.extract_lane": { prefix: 0xfd, code: 0x1f, imm: "lane" },
  "f32x4.replace_lane": { prefix: 0xfd, code: 0x20, imm: "lane" },
  // vector: i32x4 comparisons (all-ones lanes where true)
  "i32x4.eq": { prefix: 0xfd, code: 0x37, imm: "none" },
  "i32x4.ne": { prefix: 0xfd, code: 0x38, imm: "none" },
  "i32x4.lt_s": { prefix: 0xfd, code: 0x39, imm: "none" },
  "i32x4.gt_s": { prefix: 0xfd, code: 0x3b, imm: "none" },
  "i32x4.le_s": { prefix: 0xfd, code: 0x3d, imm: "none" },
  "i32x4.ge_s": { prefix: 0xfd, code: 0x3f, imm: "none" },
  // vector: f32x4 comparisons (all-ones lanes where true; false wherever a lane is NaN)
  "f32x4.eq": { prefix: 0xfd, code: 0x41, imm: "none" },
  // vector: bitwise
  "v128.not": { prefix: 0xfd, code: 0x4d, imm: "none" },
  "v128.and": { prefix: 0xfd, code: 0x4e, imm: "none" },
  "v128.andnot": { prefix: 0xfd, code: 0x4f, imm: "none" },
  "v128.or": { prefix: 0xfd, code: 0x50, imm: "none" },
  "v128.xor": { prefix: 0xfd, code: 0x51, imm: "none" },
  "v128.bitselect": { prefix: 0xfd, code: 0x52, imm: "none" },
  // vector: i16x8 arithmetic
  "i8x16.narrow_i16x8_u": { prefix: 0xfd, code: 0x66, imm: "none" },
  // vector: f32 <-> f64 lane conversions (demote rounds to nearest even; lanes 2, 3 of its result are +0)
  "f32x4.demote_f64x2_zero": { prefix: 0xfd, code: 0x5e, imm: "none" },
  "f64x2.promote_low_f32x4": { prefix: 0xfd, code: 0x5f, imm: "none" },
  "i16x8.narrow_i32x4_s": { prefix: 0xfd, code: 0x85, imm: "none" },
  "i16x8.extend_low_i8x16_s": { prefix: 0xfd, code: 0x87, imm: "none" },
  "i16x8.extend_low_i8x16_u": { prefix: 0xfd, code: 0x89, imm: "none" },
  "i16x8.add": { prefix: 0xfd, code: 0x8e, imm: "none" },
  "i16x8.sub": { prefix: 0xfd, code: 0x91, imm: "none" },
  // vector: i32x4 arithmetic
  "i32x4.shl": { prefix: 0xfd, code: 0xab, imm: "none" },
  "i32x4.shr_s": { prefix: 0xfd, code: 0xac, imm: "none" },
  "i32x4.add": { prefix: 0xfd, code: 0xae, imm: "none" },
  "i32x4.sub": { prefix: 0xfd, code: 0xb1, imm: "none" },
  "i32x4.mul": { prefix: 0xfd, code: 0xb5, imm: "none" },
  "i32x4.min_s": { prefix: 0xfd, code: 0xb6, imm: "none" },
  "i32x4.max_s": { prefix: 0xfd, code: 0xb8, imm: "none" },
  "i32x4.dot_i16x8_s": { prefix: 0xfd, code: 0xba, imm: "none" },
  // vector: i64x2 arithmetic (64-bit products of int32 lanes, for fixed-point requantization)
  "i64x2.shr_s": { prefix: 0xfd, code: 0xcc, imm: "none" },
  "i64x2.add": { prefix: 0xfd, code: 0xce, imm: "none" },
  "i64x2.extmul_low_i32x4_s": { prefix: 0xfd, code: 0xdc, imm: "none" },
  "i64x2.extmul_high_i32x4_s": { prefix: 0xfd, code: 0xdd, imm: "none" },
  // vector: f32x4 arithmetic
  "f32x4.abs": { prefix: 0xfd, code: 0xe0, imm: "none" },
  "f32x4.neg": { prefix: 0xfd, code: 0xe1, imm: "none" },
  "f32x4.sqrt": { prefix: 0xfd, code: 0xe3, imm: "none" },
  "f32x4.add": { prefix: 0xfd, code: 0xe4, imm: "none" },
  "f32x4.sub": { prefix: 0xfd, code: 0xe5, imm: "none" },
  "f32x4.mul": { prefix: 0xfd, code: 0xe6, imm: "none" },
  "f32x4.div": { prefix: 0xfd, code: 0xe7, imm: "none" },
  "f32x4.min": { prefix: 0xfd, code: 0xe8, imm: "none" },
  "f32x4.max": { prefix: 0xfd, code: 0xe9, imm: "none" },
  "f32x4.convert_i32x4_s": { prefix: 0xfd, code: 0xfa, imm: "none" },
  // vector: f64x2 arithmetic (IEEE 754 per lane; nearest rounds ties to even;
  // pmin(a, b) = b < a ? b : a, pmax(a, b) = a < b ? b : a, so a NaN b yields a)
  "f64x2.nearest": { prefix: 0xfd, code: 0x94, imm: "none" },
  "f64x2.add": { prefix: 0xfd, code: 0xf0, imm: "none" },
  "f64x2.sub": { prefix: 0xfd, code: 0xf1, imm: "none" },
  "f64x2.mul": { prefix: 0xfd, code: 0xf2, imm: "none" },
  "f64x2.div": { prefix: 0xfd, code: 0xf3, imm: "none" },
  "f64x2.pmin": { prefix: 0xfd, code: 0xf6, imm: "none" },
  "f64x2.pmax": { prefix: 0xfd, code: 0xf7, imm: "none" },
  // vector: per-plane statistics of int32 accumulators (acc_stats_kernel.ts)
  "i32x4.abs": { prefix: 0xfd, code: 0xa0, imm: "none" },
  "i32x4.max_u": { prefix: 0xfd, code: 0xb9, imm: "none" },
  "f64x2.convert_low_i32x4_s": { prefix: 0xfd, code: 0xfe, imm: "none" },
  "f64x2.extract_lane": { prefix: 0xfd, code: 0x21, imm: "lane" },
  "f64.convert_i32_s": { code: 0xb7, imm: "none" },
  "f64.convert_i32_u": { code: 0xb8, imm: "none" },
  // relaxed SIMD (only valid where the engine enables it; see features.ts)
  "f32x4.relaxed_madd": { prefix: 0xfd, code: 0x105, imm: "none" }, // a * b + c, fused or not
  "f32x4.relaxed_nmadd": { prefix: 0xfd, code: 0x106, imm: "none" }, // -(a * b) + c
} as const satisfies Record<string, OpInfo>;

export type OpName = keyof typeof OPS;
