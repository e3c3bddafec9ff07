// Loads the bench peers (tfjs, onnxruntime-node) once, and reports a peer that cannot load or run as
// "[peer skipped] reason" (once per peer) instead of failing the bench.
import { type OrtPeer, loadOrt } from "./ort.js";
import { type TfjsPeer, loadTfjs } from "./tfjs.js";

/** Logs "[peer skipped] reason" once per peer and returns null. */
function skipper(): (peer: string, e: unknown) => null {
  const seen = new Set<string>();
  return (peer, e) => {
    if (!seen.has(peer)) console.log(`[peer skipped] ${peer}: ${e instanceof Error ? e.message : String(e)}`);
    seen.add(peer);
    return null;
  };
}

export interface PeerHandles {
  tfjs: TfjsPeer | null;
  ort: OrtPeer | null;
  skip: (peer: string, e: unknown) => null;
}

export async function loadPeers(): Promise<PeerHandles> {
  const skip = skipper();
  const tfjs = await loadTfjs().catch((e: unknown) => skip("tfjs", e));
  if (tfjs) for (const b of ["wasm", "cpu"] as const) if (tfjs.available[b] !== true) skip(`tfjs-${b}`, tfjs.available[b]);
  const ort = await loadOrt().catch((e: unknown) => skip("onnxruntime-node", e));
  return { tfjs, ort, skip };
}

