#!/usr/bin/env node
// FP32 ResNet-20 accuracy on zoa-ts's corrupted test images vs the PyTorch reference table
// (../shared/reference/README.md). Usage, after `npm run build`:
//   node dist/cli.js corrupt --data ../shared/data/cifar10/test_batch.bin --out /tmp/zoa-c --severity 3,5 --frost ../shared/data/frost --seed 0
//   node tools/measure/corruption_table.mjs [/tmp/zoa-c] [--shared ../shared] [--limit 2000]
import { execFileSync } from "node:child_process";

const args = process.argv.slice(2);
const flag = (n, d) => (args.includes(`--${n}`) ? args[args.indexOf(`--${n}`) + 1] : d);
const dir = args[0] && !args[0].startsWith("--") ? args[0] : "/tmp/zoa-c";
const shared = flag("shared", process.env.ZOA_SHARED ?? "../shared");
const limit = flag("limit", "2000");
const REF = {
  5: [17.5, 22.15, 18.65, 48.95, 32.5, 47.45, 44.85, 54.65, 39.6, 46.65, 72.65, 23.75, 59.15, 35.1, 68.1],
  3: [23.65, 35.05, 44.7, 75.25, 39.15, 53.5, 60.05, 61.6, 52.3, 71.7, 78.8, 60.25, 71.9, 60.0, 71.9],
};
const NAMES = ["gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "glass_blur", "motion_blur", "zoom_blur", "snow", "frost", "fog", "brightness", "contrast", "elastic_transform", "pixelate", "jpeg_compression"];
const rows = [];
for (const s of [5, 3]) {
  NAMES.forEach((name, i) => {
    const out = execFileSync("node", ["dist/cli.js", "eval", "--model", `${shared}/models/resnet20-cifar10.safetensors`, "--data", `${dir}/${name}-s${s}.bin`, "--limit", limit, "--json", "--quiet"], { encoding: "utf8" });
    const top1 = JSON.parse(out).top1;
    rows.push({ s, name, top1, ref: REF[s][i] });
    process.stderr.write(`s${s} ${name}: ${top1.toFixed(2)} (reference ${REF[s][i]})\n`);
  });
}
console.log("| severity | corruption | zoa-ts | PyTorch reference | diff |\n|---|---|---|---|---|");
for (const r of rows) console.log(`| ${r.s} | ${r.name} | ${r.top1.toFixed(2)} | ${r.ref.toFixed(2)} | ${(r.top1 - r.ref).toFixed(2)} |`);
for (const s of [5, 3]) {
  const sel = rows.filter((r) => r.s === s);
  const m = (k) => sel.reduce((a, r) => a + r[k], 0) / sel.length;
  console.log(`| ${s} | **mean** | ${m("top1").toFixed(2)} | ${m("ref").toFixed(2)} | ${(m("top1") - m("ref")).toFixed(2)} |`);
  console.log(`max |diff| at severity ${s}: ${Math.max(...sel.map((r) => Math.abs(r.top1 - r.ref))).toFixed(2)}`);
}
