// The browser page's stream and session code (web/session.ts, web/stream.ts) run in Node, for comparing the page's
// per-batch times with Node's on the same batches. Prints top-1 and ms per batch of NoAdapt and ZOA.
//   npx tsx tools/measure/web_stream_node.ts [--backend simd] [--corruptions gaussian_noise] [--batches 3] [--source 64]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { runStream, setBackend } from "../../src/browser.js";
import { createSession } from "../../web/session.js";
import { parseCorruptions } from "../../web/settings.js";
import { streamBatch } from "../../web/stream.js";

const { values } = parseArgs({
  options: {
    backend: { type: "string", default: "simd" },
    model: { type: "string", default: "models/demo_resnet8.safetensors" },
    corruptions: { type: "string", default: "gaussian_noise" },
    batches: { type: "string", default: "3" },
    batch: { type: "string", default: "64" },
    severity: { type: "string", default: "5" },
    source: { type: "string", default: "64" },
  },
});
setBackend(values.backend);
const session = await createSession(new Uint8Array(readFileSync(values.model)), values.model, { precision: "w8a8", exec: "simulated", seed: 0, sourceImages: Number(values.source) }, () => {});
const plan = { corruptions: parseCorruptions(values.corruptions), batchesPerDomain: Number(values.batches), batchSize: Number(values.batch), seed: 0, imageSize: session.model.imageSize };
const adapters = [session.none, session.zoa];
const right = adapters.map(() => 0);
let seen = 0;
for (let step = 0; step < plan.corruptions.length * plan.batchesPerDomain; step++) {
  const b = streamBatch(plan, step, Number(values.severity));
  const report = runStream(adapters, [b]);
  adapters.forEach((a, i) => (right[i] += Math.round((report.methods[a.name].curve[0] * b.count) / 100)));
  seen += b.count;
}
adapters.forEach((a, i) => {
  const s = a.stats();
  console.log(`${a.name}: top-1 ${((100 * right[i]) / seen).toFixed(1)}, ${s.forwardPasses} passes, ${((1000 * s.seconds) / s.batches).toFixed(1)} ms / batch (${values.backend})`);
});
