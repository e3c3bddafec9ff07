// A small, strict flag parser shared by every `zoa` command. Unknown flags and missing values are
// UsageErrors: the CLI prints one line and exits with code 2.

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export type FlagKind = "string" | "int" | "number" | "bool";
export interface FlagSpec {
  kind: FlagKind;
  default?: string | number | boolean;
  help: string;
}
export type FlagSpecs = Record<string, FlagSpec>;
export type ParsedFlags<S extends FlagSpecs> = {
  [K in keyof S]: S[K]["kind"] extends "bool"
    ? boolean
    : S[K]["kind"] extends "string"
      ? string | undefined
      : number | undefined;
};

/** Parses `--name value`, `--name=value` and bare `--flag` (bool). Positional arguments are refused. */
export function parseFlags<S extends FlagSpecs>(command: string, argv: readonly string[], specs: S): ParsedFlags<S> {
  const out: Record<string, string | number | boolean | undefined> = {};
  for (const [name, spec] of Object.entries(specs)) out[name] = spec.default ?? (spec.kind === "bool" ? false : undefined);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) throw new UsageError(`zoa ${command}: unexpected argument '${arg}'`);
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq >= 0 ? eq : undefined);
    const spec = specs[name];
    if (!spec) throw new UsageError(`zoa ${command}: unknown flag --${name} (see zoa ${command} --help)`);
    if (spec.kind === "bool") {
      if (eq >= 0) throw new UsageError(`zoa ${command}: --${name} takes no value`);
      out[name] = true;
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      i++;
    }
    if (value === undefined || (eq < 0 && value.startsWith("--"))) throw new UsageError(`zoa ${command}: --${name} needs a value`);
    if (spec.kind === "string") out[name] = value;
    else {
      const n = Number(value);
      if (!Number.isFinite(n) || (spec.kind === "int" && !Number.isInteger(n))) {
        throw new UsageError(`zoa ${command}: --${name} expects ${spec.kind === "int" ? "an integer" : "a number"}, got '${value}'`);
      }
      out[name] = n;
    }
  }
  return out as ParsedFlags<S>;
}

export function helpText(command: string, summary: string, specs: FlagSpecs): string {
  const lines = [`zoa ${command}: ${summary}`, ""];
  for (const [name, spec] of Object.entries(specs)) {
    const arg = spec.kind === "bool" ? "" : ` <${spec.kind}>`;
    const def = spec.default !== undefined && spec.kind !== "bool" ? ` (default ${spec.default})` : "";
    lines.push(`  --${name}${arg}`.padEnd(32) + spec.help + def);
  }
  return lines.join("\n");
}

/** Requires a string flag, naming it in the error. */
export function required(command: string, name: string, value: string | undefined): string {
  if (value === undefined || value === "") throw new UsageError(`zoa ${command}: --${name} is required`);
  return value;
}
