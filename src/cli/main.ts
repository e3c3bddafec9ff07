// The `zoa` command: dispatches to one module per sub-command. User errors print one line and exit 2.
import { UsageError } from "./args.js";
import { isUserError } from "./common.js";
import { adaptCommand } from "./adapt.js";
import { corruptCommand } from "./corrupt.js";
import { demoCommand } from "./demo.js";
import { evalCommand } from "./eval.js";
import { quantizeCommand } from "./quantize.js";

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, { run: Command; summary: string }> = {
  demo: { run: demoCommand, summary: "the demo: quantized models, 15 corruptions, NoAdapt/NormAdapt/T3A/FOA/ZOA side by side, HTML report" },
  eval: { run: evalCommand, summary: "top-1 of a checkpoint on a CIFAR-10 binary file (float or quantized)" },
  corrupt: { run: corruptCommand, summary: "write the 15 corruptions of a CIFAR-10 file (CIFAR binary + manifest)" },
  adapt: { run: adaptCommand, summary: "test-time adaptation methods side by side on a continual corruption stream" },
  quantize: { run: quantizeCommand, summary: "post-training quantization to a safetensors file" },
};

function usage(): string {
  const lines = ["usage: zoa <command> [flags]   (zoa <command> --help for its flags)", "", "commands:"];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  return lines.join("\n");
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === "--help" || cmd === "-h" || cmd === "help") {
    console.log(usage());
    return cmd ? 0 : 2;
  }
  const c = COMMANDS[cmd];
  if (!c) throw new UsageError(`zoa: unknown command '${cmd}' (commands: ${Object.keys(COMMANDS).join(", ")})`);
  return c.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (isUserError(e)) {
      console.error(`error: ${e.message}`);
      process.exitCode = 2;
    } else {
      console.error(e);
      process.exitCode = 1;
    }
  },
);
