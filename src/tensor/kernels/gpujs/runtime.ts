// The gpu.js runtime behind the "gpujs" backend: where gpu.js comes from, one GPU instance, compiled kernels
// cached per shape, and how tensors cross between host and device.
// Residency: on the GL kernel classes (WebGL2/WebGL/headless-gl) an op's output stays on the GPU as a texture
// (gpu.js pipeline mode, immutable so every call renders to a fresh texture) wrapped in a Tensor
// (TextureData); the next op passes that texture straight to its kernel, and the host reads the values back
// only when something asks for `tensor.data`. gpu.js's cpu mode returns arrays, so there every op output is
// on the host as before. `transfers` counts uploads, readbacks and launches (the residency tests read it).
// gpu.js is never imported at module load: Node requires it on first use (process.getBuiltinModule +
// createRequire), a browser page hands it over with provideGpujs() or loads dist/gpu-browser.js as a script
// (global GPU). So the default backend, and bundles without gpu.js, pay nothing for it.
// Only the small part of gpu.js used here is typed (structurally), so no `any` crosses this module.
import { sizeOf } from "../../shape.js";
import { type DeviceData, Tensor } from "../../tensor.js";

/** What the backend asks gpu.js for: "auto" is headlessgl-or-cpu in Node, gpu.js's own choice in a browser. */
export type GpujsMode = "auto" | "gpu" | "cpu" | "webgl2" | "webgl" | "headlessgl" | "webasm";
/** The kernel class gpu.js actually runs. */
export type ResolvedGpujsMode = "webgl2" | "webgl" | "headlessgl" | "webgpu" | "webasm" | "cpu";
const RESOLVED: readonly ResolvedGpujsMode[] = ["headlessgl", "webgl2", "webgl", "webgpu", "webasm", "cpu"];
const KERNEL_CLASS: Record<ResolvedGpujsMode, string> = {
  headlessgl: "HeadlessGLKernel",
  webgl2: "WebGL2Kernel",
  webgl: "WebGLKernel",
  webgpu: "WebGPUKernel",
  webasm: "WebAssemblyKernel",
  cpu: "CPUKernel",
};

/** `this` inside a kernel body: thread ids and the compile-time constants. */
export interface KernelThis<C> {
  readonly thread: { readonly x: number; readonly y: number; readonly z: number };
  readonly constants: C;
}

/** A pipeline result: a texture on the GL backends, a typed array on cpu/webasm. */
export interface GpuTexture {
  toArray(): unknown;
  delete(): void;
  /** Texture size in texels [w, h] and the kernel output it holds [x, y, z] (gpu.js bakes both into readers). */
  readonly size?: readonly number[];
  readonly output?: readonly number[];
}

export type KernelArg = Float32Array | GpuTexture;

export interface GpuKernel {
  (...args: KernelArg[]): unknown;
  destroy(removeCanvasReferences?: boolean): void;
}

export interface KernelSettings {
  /** [x], [x, y] or [x, y, z]; x varies fastest in the readback. */
  output: number[];
  constants: Record<string, number>;
  /** Keep the result on the device (a texture) so the next kernel reads it without a readback. */
  pipeline?: boolean;
  /** With pipeline: each call renders to a new texture (the caller deletes it), not over the last one. */
  immutable?: boolean;
}

/** A kernel body: `this` gives thread ids and constants, arguments are flat arrays, the result one float. */
export type KernelBody = (this: never, ...args: never[]) => number;

interface WebGLLike {
  getExtension(name: string): unknown;
  getParameter(p: number): unknown;
}

export interface GpuInstance {
  readonly Kernel: unknown;
  readonly context: unknown;
  createKernel(body: KernelBody, settings: KernelSettings & { precision: "single"; tactic: "precision"; loopMaxIterations: number }): GpuKernel;
  destroy(): unknown;
}

export interface GpuConstructor {
  new (settings?: { mode?: string }): GpuInstance;
  readonly isHeadlessGLSupported: boolean;
}

/** The gpu.js module as `import * as gpujs from "gpu.js"` (or the browser build's GPU, which carries the same names). */
export interface GpujsModule {
  readonly GPU: GpuConstructor;
}

/** gpu.js could not be found or could not start. */
export class GpujsUnavailableError extends Error {
  constructor(message: string) {
    super(`gpujs: ${message}`);
    this.name = "GpujsUnavailableError";
  }
}

let provided: GpujsModule | null = null;

/**
 * Hands gpu.js to the backend (browser bundles, or any host where it cannot be required). Takes the module
 * namespace (or `{ GPU }`) as gpu.js types it; the parts used are checked here, at run time.
 * @example import * as gpujs from "gpu.js"; provideGpujs(gpujs); setBackend("gpujs");
 */
export function provideGpujs(mod: { readonly GPU: unknown }): void {
  if (!isGpuConstructor(mod?.GPU)) throw new GpujsUnavailableError("provideGpujs: argument has no gpu.js GPU constructor");
  provided = mod as GpujsModule;
}

function isGpuConstructor(v: unknown): v is GpuConstructor {
  return typeof v === "function" && typeof (v as { prototype?: { createKernel?: unknown } }).prototype?.createKernel === "function";
}

interface NodeProcessLike {
  versions?: { node?: string };
  getBuiltinModule?: (id: string) => unknown;
}

function nodeProcess(): NodeProcessLike | undefined {
  const p = (globalThis as { process?: NodeProcessLike }).process;
  return p?.versions?.node ? p : undefined;
}

export function isNode(): boolean {
  return nodeProcess() !== undefined;
}

/** gpu.js if it is already at hand (provided, or a global GPU from gpu-browser.js), without loading anything. */
export function gpujsAtHand(): GpujsModule | null {
  if (provided) return provided;
  const g = (globalThis as { GPU?: unknown }).GPU;
  return isGpuConstructor(g) ? { GPU: g } : null;
}

/** gpu.js at hand, else required synchronously in Node; throws GpujsUnavailableError naming the remedy. */
export function locateGpujs(): GpujsModule {
  const ready = gpujsAtHand();
  if (ready) return ready;
  const proc = nodeProcess();
  const moduleApi = proc?.getBuiltinModule?.("node:module") as { createRequire?: (from: string) => (id: string) => unknown } | undefined;
  if (!moduleApi?.createRequire) {
    throw new GpujsUnavailableError("gpu.js is not loaded: call provideGpujs(gpujs) (import * as gpujs from \"gpu.js\") or load gpu-browser.js before selecting the backend");
  }
  let mod: unknown;
  try {
    mod = moduleApi.createRequire(import.meta.url)("gpu.js");
  } catch (e) {
    throw new GpujsUnavailableError(`cannot load the gpu.js package (${(e as Error).message})`);
  }
  const ctor = (mod as { GPU?: unknown }).GPU;
  if (!isGpuConstructor(ctor)) throw new GpujsUnavailableError("the gpu.js package has no GPU constructor");
  provided = mod as GpujsModule;
  return provided;
}

function resolveMode(mod: GpujsModule, gpu: GpuInstance): ResolvedGpujsMode {
  const lib = mod as unknown as Record<string, unknown>;
  const ctor = mod.GPU as unknown as Record<string, unknown>;
  for (const m of RESOLVED) {
    const cls = lib[KERNEL_CLASS[m]] ?? ctor[KERNEL_CLASS[m]];
    if (cls !== undefined && cls === gpu.Kernel) return m;
  }
  throw new GpujsUnavailableError("cannot tell which kernel class gpu.js picked");
}

const UNMASKED_RENDERER_WEBGL = 0x9246;
const RENDERER = 0x1f01;

function rendererOf(context: unknown): string | null {
  if (!context || typeof (context as WebGLLike).getParameter !== "function") return null;
  const gl = context as WebGLLike;
  const dbg = gl.getExtension("WEBGL_debug_renderer_info");
  const r = gl.getParameter(dbg ? UNMASKED_RENDERER_WEBGL : RENDERER);
  return typeof r === "string" ? r : null;
}

const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|software|microsoft basic render/i;

// Compiled kernels kept per runtime; each distinct shape compiles once (a shader compile on the GL backends).
const MAX_CACHED_KERNELS = 128;

/** What crossed between host and device since the runtime started (read differences around a computation). */
export interface Transfers {
  /** Kernel launches. */
  launches: number;
  /** Host arrays passed to a kernel (each is copied to the device by the call). */
  uploads: number;
  /** Op outputs copied back to the host. */
  downloads: number;
  /** Output textures alive now (made, not yet released). */
  liveTextures: number;
}

/** An op output kept on the GPU: one texture, shared by the tensors that view it, read back at most once. */
export class TextureData implements DeviceData {
  private refs = 0;
  private host: Float32Array | null = null;
  private tex: GpuTexture | null;

  constructor(
    readonly owner: GpujsRuntime,
    texture: GpuTexture,
    readonly size: number,
  ) {
    this.tex = texture;
    owner.transfers.liveTextures++;
  }

  /** The texture, or null once released. */
  get texture(): GpuTexture | null {
    return this.tex;
  }

  read(): Float32Array {
    if (this.host) return this.host;
    if (!this.tex) throw new Error("gpujs: texture read after release");
    if (this.owner.disposed) throw new Error("gpujs: tensor read after its runtime was disposed (read .data before dispose())");
    this.host = flatten(this.tex, this.size);
    this.owner.transfers.downloads++;
    return this.host;
  }

  retain(): void {
    this.refs++;
  }

  release(): void {
    if (--this.refs > 0 || !this.tex) return;
    // A disposed runtime destroyed its context, and every texture with it.
    if (!this.owner.disposed) this.tex.delete();
    this.tex = null;
    this.owner.transfers.liveTextures--;
  }
}

export class GpujsRuntime {
  readonly gpu: GpuInstance;
  readonly mode: ResolvedGpujsMode;
  /** The GL renderer string where there is one (e.g. "ANGLE (Google, Vulkan 1.3.0 (SwiftShader ...))"). */
  readonly renderer: string | null;
  /** Op outputs stay on the device as textures (the GL kernel classes); false in gpu.js's cpu/webasm modes. */
  readonly resident: boolean;
  readonly transfers: Transfers = { launches: 0, uploads: 0, downloads: 0, liveTextures: 0 };
  private readonly cache = new Map<string, GpuKernel>();
  private destroyed = false;

  constructor(requested: GpujsMode) {
    const mod = locateGpujs();
    let mode: string = requested;
    if (requested === "auto") mode = isNode() ? (mod.GPU.isHeadlessGLSupported ? "headlessgl" : "cpu") : "gpu";
    try {
      this.gpu = new mod.GPU({ mode });
    } catch (e) {
      throw new GpujsUnavailableError(`gpu.js mode '${mode}' is not available here (${(e as Error).message})`);
    }
    this.mode = resolveMode(mod, this.gpu);
    // A first kernel creates the GL context (so the renderer can be read) and proves float textures work.
    const probe = this.kernel("probe", () => ({ body: probeBody, settings: { output: [2], constants: { v: 1.5 } } }));
    const got = flatten(probe(Float32Array.of(2, -3)), 2);
    if (got[0] !== 3.5 || got[1] !== -1.5) throw new GpujsUnavailableError(`gpu.js mode ${this.mode} computed [${got.join(", ")}] for the probe, expected [3.5, -1.5]`);
    this.renderer = rendererOf(this.gpu.context);
    this.resident = this.mode === "webgl2" || this.mode === "webgl" || this.mode === "headlessgl";
  }

  /** Settings for a kernel whose output is an op's result: a fresh texture per call where outputs are resident. */
  get outputSettings(): { pipeline: boolean; immutable: boolean } {
    return { pipeline: this.resident, immutable: this.resident };
  }

  /** The texture of `t` when this runtime made it and it is still alive, else null. */
  textureOf(t: Tensor): GpuTexture | null {
    const d = t.device;
    return d instanceof TextureData && d.owner === this ? d.texture : null;
  }

  /** How `t` reaches a kernel: its texture (no copy) when resident here, else its host values (uploaded by the call). */
  arg(t: Tensor): KernelArg {
    return this.textureOf(t) ?? t.data;
  }

  /** Runs `k` on `args`, counting the launch and one upload per host array among them (launch() copies each up). */
  launch(k: GpuKernel, ...args: KernelArg[]): unknown {
    this.transfers.launches++;
    for (const a of args) if (a instanceof Float32Array) this.transfers.uploads++;
    return k(...args);
  }

  /**
   * The part of a kernel's cache key that names how the tensors reach it: gpu.js compiles one shader per
   * argument kind, and bakes a texture argument's size into it ("h" host array, "t<w>x<h>:<output>" texture).
   */
  argKey(...ts: Tensor[]): string {
    return ts
      .map((t) => {
        const tex = this.textureOf(t);
        return tex ? `t${(tex.size ?? []).join("x")}:${(tex.output ?? []).join("x")}` : "h";
      })
      .join(",");
  }

  /** Runs `k` on `args` and wraps the result as a tensor of `shape`: on the device where resident, else on the host. */
  run(k: GpuKernel, shape: readonly number[], ...args: KernelArg[]): Tensor {
    const n = sizeOf(shape);
    const result = this.launch(k, ...args);
    if (isTexture(result)) return Tensor.onDevice(shape, new TextureData(this, result, n));
    return new Tensor(shape, flatten(result, n));
  }

  /** Runs `k` and copies its (host) result into `dst` from `offset`: the split launches of a large op. */
  runInto(k: GpuKernel, dst: Float32Array, offset: number, ...args: KernelArg[]): void {
    readInto(this.launch(k, ...args), dst, offset);
    if (this.resident) this.transfers.downloads++;
  }

  /** True for a GL/WebGPU kernel class on a hardware renderer (not SwiftShader / llvmpipe). */
  get hardware(): boolean {
    const gl = this.mode === "webgl2" || this.mode === "webgl" || this.mode === "headlessgl" || this.mode === "webgpu";
    return gl && !SOFTWARE_RENDERER.test(this.renderer ?? "");
  }

  get description(): string {
    const where = this.renderer ? `, ${this.renderer}` : "";
    return `gpu.js ${this.mode}${where}`;
  }

  /** The kernel cached under `key`, compiled by `make` on first use. `key` must name every shape the body bakes in. */
  kernel(key: string, make: () => { body: KernelBody; settings: KernelSettings }): GpuKernel {
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const { body, settings } = make();
    const k = this.gpu.createKernel(body, {
      ...settings,
      immutable: settings.immutable ?? false,
      precision: "single",
      tactic: "precision",
      // Loops run to constants baked into the shader; this only lifts gpu.js's default guard of 1000.
      loopMaxIterations: 1 << 20,
    } as KernelSettings & { precision: "single"; tactic: "precision"; loopMaxIterations: number });
    this.cache.set(key, k);
    if (this.cache.size > MAX_CACHED_KERNELS) {
      const [oldKey, old] = this.cache.entries().next().value as [string, GpuKernel];
      this.cache.delete(oldKey);
      old.destroy();
    }
    return k;
  }

  get cachedKernels(): number {
    return this.cache.size;
  }

  /** True after dispose(): its textures are gone with the context. */
  get disposed(): boolean {
    return this.destroyed;
  }

  dispose(): void {
    this.destroyed = true;
    for (const k of this.cache.values()) k.destroy();
    this.cache.clear();
    void this.gpu.destroy();
  }
}

function probeBody(this: KernelThis<{ v: number }>, a: Float32Array): number {
  return a[this.thread.x] + this.constants.v;
}

function isTexture(v: unknown): v is GpuTexture {
  return typeof v === "object" && v !== null && typeof (v as GpuTexture).toArray === "function" && !ArrayBuffer.isView(v);
}

/**
 * Copies a kernel result (Float32Array, nested arrays of them for 2-D/3-D outputs, or a texture) into
 * `dst` from `offset`, x fastest; returns the offset after the last value.
 */
export function readInto(result: unknown, dst: Float32Array, offset = 0): number {
  const r = isTexture(result) ? result.toArray() : result;
  if (r instanceof Float32Array) {
    dst.set(r, offset);
    return offset + r.length;
  }
  if (Array.isArray(r)) {
    let o = offset;
    if (r.length > 0 && typeof r[0] === "number") {
      for (const v of r as number[]) dst[o++] = v;
      return o;
    }
    for (const part of r) o = readInto(part, dst, o);
    return o;
  }
  throw new Error(`gpujs: unexpected kernel result ${Object.prototype.toString.call(r)}`);
}

/** A kernel result as one new Float32Array of n values. */
export function flatten(result: unknown, n: number): Float32Array {
  const out = new Float32Array(n);
  const end = readInto(result, out);
  if (end !== n) throw new Error(`gpujs: kernel returned ${end} values, expected ${n}`);
  return out;
}
