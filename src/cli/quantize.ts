// `zoa quantize`: post-training quantization of a float checkpoint, saved as safetensors (codes + scales +
// activation quantizers in metadata) that `zoa eval --model` and `zoa adapt --model` load directly.
import { type FlagSpecs, UsageError, helpText, parseFlags, required } from "./args.js";
import { requireFile } from "./common.js";
import { MODEL_FLAGS, prepareModel } from "./model_flags.js";
import { saveQuantizedModel } from "../quant/qio.js";
import { describeAct } from "../quant/act.js";
import { resolve } from "node:path";

const FLAGS = {
  ...MODEL_FLAGS,
  out: { kind: "string", help: "output .safetensors file (never one of the inputs)" },
  verbose: { kind: "bool", help: "print every layer's quantizers" },
  quiet: { kind: "bool", help: "no progress lines" },
  help: { kind: "bool", help: "show this help" },
} satisfies FlagSpecs;

export async function quantizeCommand(argv: string[]): Promise<number> {
  const f = parseFlags("quantize", argv, FLAGS);
  if (f.help) {
    console.log(helpText("quantize", "post-training quantization of a float checkpoint", FLAGS));
    return 0;
  }
  const modelFile = requireFile("quantize", "model", required("quantize", "model", f.model));
  const out = required("quantize", "out", f.out);
  if (!f.quant && f.wbits === undefined) throw new UsageError("zoa quantize: --quant w8a8|w6a6|w4a4 (or --wbits/--abits) is required");
  for (const input of [modelFile, f.calib]) {
    if (input && resolve(input) === resolve(out)) throw new UsageError(`zoa quantize: --out ${out} would overwrite an input file`);
  }
  const p = prepareModel("quantize", f, (m) => {
    if (!f.quiet) process.stderr.write(`${m}\n`);
  });
  if (!p.quantized) throw new UsageError("zoa quantize: nothing to do (fp32)");
  saveQuantizedModel(out, p.quantized, p.file.metadata);
  const mem = p.quantized.memoryBytes();
  if (f.verbose) {
    for (const l of p.quantized.weights.values()) console.log(`${l.name.padEnd(28)} w${l.weight.bits} per-channel   in ${describeAct(l.input)}`);
    for (const m of p.quantized.matmuls.values()) console.log(`${m.name.padEnd(28)} a ${describeAct(m.a)}   b ${describeAct(m.b)}`);
  }
  console.log(`${p.label}: ${p.quantized.weights.size} layers + ${p.quantized.matmuls.size} matmuls quantized in ${p.calibSeconds.toFixed(1)}s`);
  console.log(`size ${(mem.total / 1024).toFixed(1)} KiB deployed (codes ${(mem.weightCodes / 1024).toFixed(1)} KiB, float params ${(mem.floatParams / 1024).toFixed(1)} KiB) vs fp32 ${((p.model.params.count() * 4) / 1024).toFixed(1)} KiB`);
  console.log(`wrote ${out}`);
  return 0;
}
