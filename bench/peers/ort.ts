// onnxruntime-node (native CPU execution provider, MLAS kernels) as a bench peer. Models arrive as ONNX bytes
// built by onnx_graphs.ts; sessions run sequentially with `threads` intra-op threads and one inter-op thread,
// all graph optimisations on (BN folding, conv + relu fusion, constant-weight prepacking), as a user would run.
// Loaded with a dynamic import so the bench still runs without the package.

type Ort = typeof import("onnxruntime-node");

export interface OrtPeer {
  version: string;
  /** A session on `model` taking one float32 input `name` of shape `dims`. */
  session(model: Uint8Array, threads: number): Promise<OrtSession>;
}

export interface OrtSession {
  /** Binds the input once (the timed call then only runs). */
  bind(name: string, data: Float32Array, dims: readonly number[]): void;
  /** Runs the graph on the bound input; resolves to the first output's data. */
  run(): Promise<Float32Array>;
  release(): Promise<void>;
}

let loaded: Promise<OrtPeer> | null = null;

async function init(): Promise<OrtPeer> {
  const ort: Ort = await import("onnxruntime-node");
  const session = async (model: Uint8Array, threads: number): Promise<OrtSession> => {
    const s = await ort.InferenceSession.create(model, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: "sequential",
      graphOptimizationLevel: "all",
    });
    let feeds: Record<string, InstanceType<Ort["Tensor"]>> = {};
    const out = s.outputNames[0];
    return {
      bind(name, data, dims) {
        feeds = { [name]: new ort.Tensor("float32", data, [...dims]) };
      },
      async run() {
        const r = await s.run(feeds);
        return r[out].data as Float32Array;
      },
      release: () => s.release(),
    };
  };
  return { version: ort.env.versions.node ?? ort.env.versions.common, session };
}

/** Loads onnxruntime-node once per process (rejects when it cannot be loaded). */
export function loadOrt(): Promise<OrtPeer> {
  loaded ??= init();
  return loaded;
}
