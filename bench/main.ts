// `npm run bench`: every benchmark section, printed as tables, written to BENCHMARKS.md (and --json FILE).
// Flags: --shared DIR (default $ZOA_SHARED or ../shared), --runs N (default 5), --out FILE (default
// BENCHMARKS.md), --json FILE, --only models,... Sections: gemm, qgemm, peer-ops, models, peer-models, quant,
// zoa-step, corrupt (peer-*: tfjs and onnxruntime-node in the same run).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { benchCorrupt } from "./corrupt.bench.js";
import { benchGemm } from "./gemm.bench.js";
import { benchModels } from "./models.bench.js";
import { PEER_MODELS_NOTE, benchPeerModels, peerModelsTable } from "./peer_models.bench.js";
import { PEER_OPS_NOTE, benchPeerOps, peerOpsTable } from "./peer_ops.bench.js";
import { type PeerHandles, loadPeers } from "./peers/load.js";
import { mergeSections } from "./report_merge.js";
import { ZOA_STEP_NOTE, benchZoaStep, zoaStepTable } from "./zoa_step.bench.js";
import { benchQConv, benchQGemm } from "./qgemm.bench.js";
import { benchQuant } from "./quant.bench.js";
import { getBackend } from "../src/tensor/backends.js";
import { machine, mdTable } from "./util.js";

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const f = (x: number | null, d = 1) => (x === null ? "-" : x.toFixed(d));

async function main(): Promise<void> {
  const shared = flag("shared") ?? process.env.ZOA_SHARED ?? "../shared";
  const runs = Number(flag("runs") ?? 5);
  const only = flag("only")?.split(",");
  const want = (s: string) => !only || only.includes(s);
  const sections: string[] = [];
  const json: Record<string, unknown> = { machine: machine(), date: new Date().toISOString() };
  const head = `Machine: ${machine()}. Single thread unless stated; medians of ${runs} runs after warm-up.`;
  console.log(head);

  console.log(`Default backend: ${getBackend().name} (${getBackend().description})`);
  json.backend = getBackend().name;
  if (want("gemm")) {
    const rows = await benchGemm();
    json.gemm = rows;
    const table = mdTable(
      ["shape", "M x N x K", "naive GFLOP/s", "plain TS packed", "wasm SIMD", "SIMD / packed"],
      rows.map((r) => [r.name, `${r.M}x${r.N}x${r.K}`, f(r.naive), f(r.packed), f(r.simd), r.simd === null ? "-" : `${(r.simd / r.packed).toFixed(1)}x`]),
    );
    sections.push(`## fp32 GEMM, single thread (median GFLOP/s)\n\n${table}`);
    console.log(`\n${table}`);
  }

  if (want("qgemm")) {
    const rows = [...(await benchQGemm()), ...(await benchQConv())];
    json.qgemm = rows;
    const table = mdTable(
      ["shape", "M x N x K", "plain TS int8 GOP/s", "SIMD int8 (API)", "SIMD int8 (into buffer)", "SIMD fp32 GFLOP/s", "int8 / fp32"],
      rows.map((r) => [r.name, `${r.M}x${r.N}x${r.K}`, f(r.js), f(r.int8), f(r.int8Into), f(r.fp32), r.ratio === null ? "-" : `${r.ratio.toFixed(2)}x`]),
    );
    sections.push(`## int8 GEMM / conv vs the engine's fp32 SIMD, single thread (median GOP/s)\n\n${table}`);
    console.log(`\n${table}`);
  }

  let peers: PeerHandles | null = null;
  const loadLine = (): string => `Measured ${new Date().toISOString().slice(0, 10)}; machine load: ${loadavg().map((x) => x.toFixed(1)).join(" / ")} (1 / 5 / 15 min).`;
  const peerHead = (p: PeerHandles): string =>
    `Peers: tfjs ${p.tfjs?.version ?? "(not loaded)"} (wasm: ${p.tfjs?.available.wasm === true ? "SIMD, 1 thread" : "skipped"}, cpu: ${p.tfjs?.available.cpu === true ? "yes" : "skipped"}), ` +
    `onnxruntime-node ${p.ort?.version ?? "(not loaded)"} (CPU EP). ${loadLine()}`;
  if (want("peer-ops")) {
    peers ??= await loadPeers();
    const rows = await benchPeerOps(peers);
    json.peerOps = rows;
    const table = peerOpsTable(rows);
    sections.push(`## fp32 GEMM and conv next to tfjs and onnxruntime (GFLOP/s)\n\n${peerHead(peers)}\n\n${table}\n\n${PEER_OPS_NOTE}`);
    console.log(`\n${peerHead(peers)}\n${table}`);
  }

  if (want("models")) {
    if (!existsSync(`${shared}/models/resnet20-cifar10.safetensors`)) {
      console.log(`models: skipped (${shared}/models not found; pass --shared DIR)`);
    } else {
      const rows = await benchModels({ shared, runs });
      json.models = rows;
      const table = mdTable(
        ["model", "batch", "backend", "zoa-ts images/s", "PyTorch 1 thread", "PyTorch 2 threads", "zoa-ts / PyTorch(1)"],
        rows.map((r) => [r.model, r.batch, r.backend, f(r.imagesPerSecond), f(r.torch1), f(r.torch2), f(r.ratio, 3)]),
      );
      sections.push(`## Whole-model float32 inference (CIFAR-10, batch 64)\n\n${table}`);
      console.log(`\n${table}`);
    }
  }

  if (want("peer-models")) {
    if (!existsSync(`${shared}/models/resnet20-cifar10.safetensors`)) {
      console.log(`peer-models: skipped (${shared}/models/resnet20-cifar10.safetensors not found; pass --shared DIR)`);
    } else {
      peers ??= await loadPeers();
      const report = await benchPeerModels({ shared, peers });
      json.peerModels = report;
      const table = peerModelsTable(report);
      sections.push(`## ResNet-20 inference next to tfjs and onnxruntime (CIFAR-10, batch 64)\n\n${peerHead(peers)}\n\n${table}\n\n${PEER_MODELS_NOTE}`);
      console.log(`\n${peerHead(peers)}\n${table}`);
    }
  }

  if (want("quant")) {
    if (!existsSync(`${shared}/models/resnet20-cifar10.safetensors`)) console.log("quant: skipped (no shared models)");
    else {
      const rows = await benchQuant({ shared, runs });
      json.quant = rows;
      const table = mdTable(
        ["model", "precision", "float images/s", "simulated images/s", "integer images/s", "model KiB"],
        rows.map((r) => [r.model, r.precision, f(r.floatIps), f(r.simulatedIps), f(r.integerIps), (r.bytes / 1024).toFixed(1)]),
      );
      sections.push(`## Quantized inference (batch 64; integer = int8 kernels, simulated = fake-quant)\n\n${table}`);
      console.log(`\n${table}`);
    }
  }

  if (want("zoa-step")) {
    if (!existsSync(`${shared}/models/resnet20-cifar10.safetensors`)) console.log(`zoa-step: skipped (${shared}/models not found; pass --shared DIR)`);
    else {
      const rows = await benchZoaStep({ shared });
      json.zoaStep = rows;
      const table = zoaStepTable(rows);
      sections.push(`## Cost of adapting: one ZOA step vs one NoAdapt forward pass\n\n${loadLine()}\n\n${table}\n\n${ZOA_STEP_NOTE}`);
      console.log(`\n${table}`);
    }
  }

  if (want("corrupt")) {
    const rows = await benchCorrupt({ shared: existsSync(shared) ? shared : null, limit: 2000 });
    json.corrupt = rows;
    const table = mdTable(
      ["corruption (severity 5)", "images/s", "10,000 images (s, est.)"],
      rows.map((r) => [r.corruption, f(r.imagesPerSecond), f(10000 / r.imagesPerSecond)]),
    );
    sections.push(`## Corruptions (2000 CIFAR images each)\n\n${table}`);
    console.log(`\n${table}`);
  }

  const md = `# zoa-ts benchmarks\n\n${head}\nGenerated by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}.\n\n${sections.join("\n\n")}\n`;
  const outFile = flag("out") ?? "BENCHMARKS.md";
  // --only: update those sections of the existing file and keep the others
  writeFileSync(outFile, only && existsSync(outFile) ? mergeSections(readFileSync(outFile, "utf8"), sections) : md);
  const jsonOut = flag("json");
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify(json, null, 2));
}

await main();
