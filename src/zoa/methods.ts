// The method registry used by `zoa adapt` and `zoa demo`: names -> adapter factories.
import type { Adapter, Predictor } from "./adapter.js";
import { NoAdapt, NormAdapt } from "./baselines.js";
import { Foa } from "./foa.js";
import { T3A } from "./t3a.js";
import { Tent } from "./tent.js";
import type { SourceStats } from "./features.js";
import { type ZoaConfig, Zoa, zoaSpecConfig } from "./zoa.js";
import { zoaVariantConfig, ZOA_VARIANTS, type ZoaVariantName } from "./variants.js";

export interface MethodContext {
  predictor: Predictor;
  source: SourceStats;
  /** Activation bits of the deployed model (null: fp32), for bit-dependent defaults. */
  bits: number | null;
  seed: number;
  zoaVariant: ZoaVariantName;
  /** Extra ZOA settings (e.g. maxSlots from the CLI). */
  zoa?: Partial<ZoaConfig>;
}

export const METHOD_NAMES = ["none", "norm", "t3a", "foa", "zoa", "tent"] as const;
export type MethodName = (typeof METHOD_NAMES)[number];

type Factory = (ctx: MethodContext) => Adapter;

const FACTORIES: Partial<Record<MethodName, Factory>> = {
  none: (ctx) => new NoAdapt(ctx.predictor),
  norm: (ctx) => new NormAdapt(ctx.predictor),
  t3a: (ctx) => new T3A(ctx.predictor),
  foa: (ctx) => new Foa(ctx.predictor, ctx.source, { seed: ctx.seed }),
  tent: (ctx) => new Tent(ctx.predictor),
  zoa: (ctx) => new Zoa(ctx.predictor, ctx.source, zoaVariantConfig(ctx.zoaVariant, zoaSpecConfig(ctx.predictor.model, ctx.bits, { seed: ctx.seed, ...ctx.zoa }), ctx.predictor.model.kind)),
};

export function availableMethods(): MethodName[] {
  return METHOD_NAMES.filter((m) => FACTORIES[m] !== undefined);
}

export function createAdapter(name: string, ctx: MethodContext): Adapter {
  const f = FACTORIES[name as MethodName];
  if (!f) throw new RangeError(`unknown method '${name}' (available: ${availableMethods().join(", ")})`);
  return f(ctx);
}

export { ZOA_VARIANTS };
