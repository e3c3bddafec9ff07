// ZOA state <-> safetensors. Tensors: bank.alpha [N+1], bank.tilde.<layer> [2C], bank.slot.<id>.<layer> [2C],
// detector.mean / detector.variance [C], shift.hist [D], grad.momentum [n], bn.history.<bn>.mean / .variance [C]
// (statsMomentum > 0). Metadata: zoa_bank (JSON: layer
// names and channels, slot ids and creation batches, next id, batch index, shift count, config).
// Loading checks that the layers match the model the adapter was built for and names the file on error.
// No file access (browser-safe): readAdapterState / writeAdapterState are in adapter_state_file.ts.
import { type SafetensorsFile, type WritableTensor, parseSafetensors, serializeSafetensors, toFloat32 } from "../io/safetensors_format.js";
import { ModelError } from "../models/params.js";
import type { BnMoments } from "../models/model.js";
import type { AdapterState } from "./adapter.js";
import type { Zoa } from "./zoa.js";

interface BankMeta {
  format: "zoa-bank/1";
  layers: { name: string; channels: number }[];
  slots: { id: number; createdAt: number }[];
  nextId: number;
  batchIndex: number;
  shifts: number;
  removed: number[];
  config: unknown;
}

const f32 = (data: Float32Array | Float64Array | number[]): WritableTensor => {
  const d = Float32Array.from(data);
  return { dtype: "F32", shape: [d.length], data: d };
};

export function bankToState(z: Zoa): AdapterState {
  const tensors: Record<string, WritableTensor> = { "bank.alpha": f32(z.bank.alpha) };
  z.bank.layers.forEach((l, i) => {
    tensors[`bank.tilde.${l.name}`] = f32(z.bank.tilde[i]);
  });
  for (const s of z.bank.slots) z.bank.layers.forEach((l, i) => (tensors[`bank.slot.${s.id}.${l.name}`] = f32(s.deltas[i])));
  if (z.detector.mean && z.detector.variance) {
    tensors["detector.mean"] = f32(z.detector.mean);
    tensors["detector.variance"] = f32(z.detector.variance);
  }
  if (z.hist) tensors["shift.hist"] = f32(z.hist);
  if (z.gradMomentumBuffer) tensors["grad.momentum"] = f32(z.gradMomentumBuffer);
  for (const [name, m] of z.bnHistory ?? []) {
    tensors[`bn.history.${name}.mean`] = f32(m.mean);
    tensors[`bn.history.${name}.variance`] = f32(m.variance);
  }
  const meta: BankMeta = {
    format: "zoa-bank/1",
    layers: z.bank.layers.map((l) => ({ name: l.name, channels: l.channels })),
    slots: z.bank.slots.map((s) => ({ id: s.id, createdAt: s.createdAt })),
    nextId: z.bank.nextSlotId,
    batchIndex: z.batchIndex,
    shifts: z.shifts,
    removed: [...z.bank.removed],
    config: z.config,
  };
  return { tensors, metadata: { zoa_bank: JSON.stringify(meta) } };
}

function values(state: AdapterState, name: string, file: string, length?: number): Float32Array {
  const t = state.tensors[name];
  if (!t) throw new ModelError(`${file}: missing tensor '${name}'`);
  const d = Float32Array.from(t.data as ArrayLike<number>);
  if (length !== undefined && d.length !== length) throw new ModelError(`${file}: tensor '${name}' has ${d.length} values, expected ${length}`);
  return d;
}

export function bankFromState(z: Zoa, state: AdapterState, file = "<bank>"): void {
  let meta: BankMeta;
  try {
    meta = JSON.parse(state.metadata.zoa_bank ?? "");
  } catch {
    throw new ModelError(`${file}: not a ZOA bank (no valid __metadata__.zoa_bank)`);
  }
  if (meta.format !== "zoa-bank/1") throw new ModelError(`${file}: unknown bank format '${String(meta.format)}'`);
  const names = z.bank.layers.map((l) => `${l.name}:${l.channels}`).join(",");
  const theirs = meta.layers.map((l) => `${l.name}:${l.channels}`).join(",");
  if (names !== theirs) throw new ModelError(`${file}: bank layers [${theirs}] do not match this model's adapted layers [${names}]`);
  z.bank.alpha = Array.from(values(state, "bank.alpha", file, meta.slots.length + 1));
  z.bank.tilde = z.bank.layers.map((l) => values(state, `bank.tilde.${l.name}`, file, 2 * l.channels));
  z.bank.slots = meta.slots.map((s) => ({
    id: s.id,
    createdAt: s.createdAt,
    deltas: z.bank.layers.map((l) => values(state, `bank.slot.${s.id}.${l.name}`, file, 2 * l.channels)),
  }));
  z.bank.setNextId(meta.nextId);
  z.bank.removed.splice(0, z.bank.removed.length, ...meta.removed);
  z.batchIndex = meta.batchIndex;
  z.shifts = meta.shifts;
  if (state.tensors["detector.mean"]) {
    z.detector.mean = values(state, "detector.mean", file);
    z.detector.variance = values(state, "detector.variance", file);
  } else z.detector.reset();
  z.hist = state.tensors["shift.hist"] ? values(state, "shift.hist", file) : null;
  z.gradMomentumBuffer = state.tensors["grad.momentum"] ? values(state, "grad.momentum", file) : null;
  const history = new Map<string, BnMoments>();
  for (const key of Object.keys(state.tensors)) {
    const m = /^bn\.history\.(.+)\.mean$/.exec(key);
    if (!m) continue;
    const mean = values(state, key, file);
    const variance = values(state, `bn.history.${m[1]}.variance`, file, mean.length);
    history.set(m[1], { mean: Float64Array.from(mean), variance: Float64Array.from(variance) });
  }
  z.bnHistory = history.size > 0 ? history : null;
}

export function stateFromFile(f: SafetensorsFile): AdapterState {
  const tensors: Record<string, WritableTensor> = {};
  for (const [name, e] of f.tensors) tensors[name] = { dtype: "F32", shape: e.shape, data: toFloat32(e) };
  return { tensors, metadata: { ...f.metadata } };
}

/** An adapter state as safetensors bytes (what writeAdapterState writes; a browser download). */
export function adapterStateToBytes(state: AdapterState): Uint8Array {
  return serializeSafetensors(state.tensors, state.metadata);
}

/**
 * Parses safetensors bytes holding an adapter state; `file` names the source in errors.
 * @example zoa.load(adapterStateFromBytes(new Uint8Array(await file.arrayBuffer()), file.name))
 */
export function adapterStateFromBytes(bytes: Uint8Array, file = "<memory>"): AdapterState {
  return stateFromFile(parseSafetensors(bytes, file));
}
