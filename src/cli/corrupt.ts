// `zoa corrupt`: writes CIFAR-10-C style files, DIR/<corruption>-s<severity>.bin (CIFAR binary layout, labels
// kept), and DIR/manifest.json recording how they were made (seed, severities, source sha256, version, frost).
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeCifar, readCifar } from "../data/cifar.js";
import { CORRUPTIONS, type CorruptionName, corruptSet, frostTexturesFor, isCorruptionName } from "../data/corruptions/index.js";
import { FROST_FILES, FrostTextureError, type FrostTextures } from "../data/corruptions/frost_texture.js";
import { setBackend } from "../tensor/backends.js";
import { DEFAULT_BACKEND } from "./model_flags.js";
import { type FlagSpecs, UsageError, helpText, parseFlags, required } from "./args.js";
import { requireFile, writeOutput } from "./common.js";
import { Progress } from "./progress.js";

const FLAGS = {
  data: { kind: "string", help: "clean CIFAR-10 binary file (e.g. test_batch.bin)" },
  out: { kind: "string", help: "output directory (created if missing)" },
  severity: { kind: "string", default: "5", help: "severity 1..5, or a comma list such as 3,5" },
  corruptions: { kind: "string", default: "all", help: "all, or a comma list of corruption names" },
  limit: { kind: "int", help: "corrupt only the first N images" },
  seed: { kind: "int", default: 0, help: "seed of the per-image random streams" },
  frost: { kind: "string", help: "directory with frost1.png..frost5.jpg (default: procedural stand-in)" },
  quiet: { kind: "bool", help: "no progress bar" },
  backend: { kind: "string", default: DEFAULT_BACKEND, help: "$ZOA_BACKEND or auto; auto|simd|cpu|reference|gpujs, as for the other commands (the corruptions are plain loops and run the same on all)" },
  help: { kind: "bool", help: "show this help" },
} satisfies FlagSpecs;

/** One written file, as listed in manifest.json. */
export interface CorruptFileEntry {
  corruption: CorruptionName;
  severity: number;
  file: string;
  images: number;
  sha256: string;
  seconds: number;
  /** Mean |corrupted - clean| over all pixel values (0..255). */
  meanAbsDiff: number;
}

export interface CorruptManifest {
  tool: "zoa corrupt";
  version: string;
  seed: number;
  severity: number[];
  corruptions: CorruptionName[];
  limit: number | null;
  images: number;
  source: { file: string; sha256: string };
  frost: string;
  jpeg: string;
  files: CorruptFileEntry[];
}

export async function corruptCommand(argv: string[]): Promise<number> {
  const f = parseFlags("corrupt", argv, FLAGS);
  if (f.help) {
    const names = `corruptions (standard order): ${CORRUPTIONS.join(", ")}`;
    console.log(`${helpText("corrupt", "write CIFAR-10-C style corrupted copies of a CIFAR-10 binary file", FLAGS)}\n\n${names}`);
    return 0;
  }
  try {
    setBackend(f.backend ?? DEFAULT_BACKEND);
  } catch (e) {
    throw new UsageError(`zoa corrupt: --backend: ${(e as Error).message}`);
  }
  const dataFile = requireFile("corrupt", "data", required("corrupt", "data", f.data));
  const outDir = required("corrupt", "out", f.out);
  const severities = parseSeverities(f.severity ?? "5");
  const names = parseCorruptions(f.corruptions ?? "all");
  const seed = f.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1) throw new UsageError(`zoa corrupt: --seed must be an integer 0..2^32-1, got ${seed}`);
  if (f.limit !== undefined && f.limit < 1) throw new UsageError(`zoa corrupt: --limit must be >= 1, got ${f.limit}`);
  if (existsSync(outDir) && !statSync(outDir).isDirectory()) throw new UsageError(`zoa corrupt: --out ${outDir} is not a directory`);

  const bytes = readFileSync(dataFile);
  const sourceSha = createHash("sha256").update(bytes).digest("hex");
  const set = readCifar(dataFile, f.limit);
  const frost = names.includes("frost") ? frostSource(f.frost) : undefined;
  mkdirSync(outDir, { recursive: true });

  const entries: CorruptFileEntry[] = [];
  for (const severity of severities) {
    for (const name of names) {
      const label = `${name} s${severity}`.padEnd(22);
      const progress = new Progress(label, set.count, !f.quiet);
      const t0 = performance.now();
      const out = corruptSet(set, name, severity, seed, { frost, onProgress: (done) => progress.update(done) });
      const seconds = (performance.now() - t0) / 1000;
      const file = `${name}-s${severity}.bin`;
      const encoded = encodeCifar(out);
      writeOutput("corrupt", "out", join(outDir, file), encoded, [dataFile]);
      let diff = 0;
      for (let i = 0; i < out.images.length; i++) diff += Math.abs(out.images[i] - set.images[i]);
      entries.push({
        corruption: name,
        severity,
        file,
        images: out.count,
        sha256: createHash("sha256").update(encoded).digest("hex"),
        seconds,
        meanAbsDiff: out.images.length ? diff / out.images.length : 0,
      });
    }
  }

  const manifest: CorruptManifest = {
    tool: "zoa corrupt",
    version: packageVersion(),
    seed,
    severity: severities,
    corruptions: names,
    limit: f.limit ?? null,
    images: set.count,
    source: { file: resolve(dataFile), sha256: sourceSha },
    frost: frost ? frost.source : "unused",
    jpeg: "libjpeg-turbo pipeline (PIL quality, 4:2:0, islow DCT, fancy upsampling)",
    files: entries,
  };
  writeOutput("corrupt", "out", join(outDir, "manifest.json"), `${JSON.stringify(mergeManifest(join(outDir, "manifest.json"), manifest), null, 2)}\n`, [dataFile]);
  console.log(summaryTable(entries, outDir));
  return 0;
}

function parseSeverities(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(",")) {
    const s = Number(part.trim());
    if (!Number.isInteger(s) || s < 1 || s > 5) throw new UsageError(`zoa corrupt: --severity expects 1..5 or a comma list of them, got '${text}'`);
    if (!out.includes(s)) out.push(s);
  }
  return out;
}

function parseCorruptions(text: string): CorruptionName[] {
  if (text.trim() === "all") return [...CORRUPTIONS];
  const picked = new Set<CorruptionName>();
  for (const part of text.split(",")) {
    const name = part.trim();
    if (!isCorruptionName(name)) throw new UsageError(`zoa corrupt: unknown corruption '${name}' (valid: all, ${CORRUPTIONS.join(", ")})`);
    picked.add(name);
  }
  // Written in the standard order whatever order was asked for.
  return CORRUPTIONS.filter((c) => picked.has(c));
}

function frostSource(dir: string | undefined): FrostTextures {
  if (dir === undefined) {
    process.stderr.write("zoa corrupt: no --frost DIR given: frost uses the procedural stand-in textures (an approximation of frost1..frost5)\n");
    return frostTexturesFor("cifar");
  }
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`zoa corrupt: --frost ${dir}: no such directory`);
  const present = new Set(readdirSync(dir));
  const missing = FROST_FILES.filter((n) => !present.has(n));
  if (missing.length) throw new UsageError(`zoa corrupt: --frost ${dir}: missing ${missing.join(", ")}`);
  try {
    return frostTexturesFor("cifar", { frostDir: resolve(dir) });
  } catch (e) {
    if (e instanceof FrostTextureError) throw new UsageError(`zoa corrupt: ${e.message}`);
    throw e;
  }
}

/** Keeps earlier entries of a manifest made from the same source, seed and limit (e.g. another severity). */
function mergeManifest(file: string, next: CorruptManifest): CorruptManifest {
  if (!existsSync(file)) return next;
  let prev: CorruptManifest;
  try {
    prev = JSON.parse(readFileSync(file, "utf8")) as CorruptManifest;
  } catch {
    return next;
  }
  if (prev.tool !== next.tool || prev.seed !== next.seed || prev.limit !== next.limit || prev.source?.sha256 !== next.source.sha256 || !Array.isArray(prev.files)) {
    return next;
  }
  const written = new Set(next.files.map((e) => e.file));
  const files = [...prev.files.filter((e) => !written.has(e.file)), ...next.files];
  files.sort((a, b) => a.severity - b.severity || CORRUPTIONS.indexOf(a.corruption) - CORRUPTIONS.indexOf(b.corruption));
  const severity = [...new Set(files.map((e) => e.severity))].sort();
  const corruptions = CORRUPTIONS.filter((c) => files.some((e) => e.corruption === c));
  const frost = next.frost === "unused" ? prev.frost : next.frost;
  return { ...next, severity, corruptions, frost, files };
}

function summaryTable(entries: readonly CorruptFileEntry[], outDir: string): string {
  const lines = [`wrote ${entries.length} file(s) to ${outDir}`, "", `${"corruption".padEnd(20)} sev  images   seconds   img/s  mean|diff|`];
  let total = 0;
  for (const e of entries) {
    total += e.seconds;
    const rate = e.seconds > 0 ? e.images / e.seconds : 0;
    lines.push(
      `${e.corruption.padEnd(20)} ${String(e.severity).padStart(3)} ${String(e.images).padStart(7)} ${e.seconds.toFixed(2).padStart(9)} ${rate.toFixed(0).padStart(7)} ${e.meanAbsDiff.toFixed(2).padStart(11)}`,
    );
  }
  lines.push(`${"total".padEnd(20)} ${"".padStart(3)} ${"".padStart(7)} ${total.toFixed(2).padStart(9)}`);
  return lines.join("\n");
}

/** The version field of zoa-ts's package.json, found upwards from this module (src/cli or dist). */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
        if (pkg.name === "zoa-ts" && pkg.version) return pkg.version;
      } catch {
        // not ours: keep looking upwards
      }
    }
    dir = dirname(dir);
  }
  return "unknown";
}
