// Which norm layers each method adapts (zoa-method.md section 2).
import type { Classifier, NormLayerInfo } from "../models/model.js";
import type { ResNet } from "../models/resnet.js";

/**
 * ViT (depth d): norm1 and norm2 of blocks 1 .. ceil(3d/4) - 1 (ViT-B: 1..8; the 6-block CIFAR ViT: 1..4).
 * ResNet: bn1 and bn2 of every block except the first block of the first stage and every block of the last
 * stage (bn3 and downsample BNs stay frozen).
 */
export function zoaAdaptedLayers(model: Classifier): NormLayerInfo[] {
  if (model.kind === "vit") {
    const depth = model.normLayers.filter((n) => n.name.endsWith(".norm1")).length;
    const last = Math.ceil((3 * depth) / 4) - 1;
    return model.normLayers.filter((n) => {
      const m = /^blocks\.(\d+)\.norm[12]$/.exec(n.name);
      return m !== null && Number(m[1]) >= 1 && Number(m[1]) <= last;
    });
  }
  const blocks = (model as ResNet).blocks;
  const stages = blocks.length;
  return model.normLayers.filter((n) => {
    const m = /^layer(\d+)\.(\d+)\.bn[12]$/.exec(n.name);
    if (!m) return false;
    const stage = Number(m[1]);
    const block = Number(m[2]);
    return !(stage === 1 && block === 0) && stage !== stages;
  });
}

/** Which layers a ZOA configuration adapts: the spec's choice above, or every norm layer (as TENT does). */
export type LayerChoice = "spec" | "all";

export function adaptedLayers(model: Classifier, choice: LayerChoice): NormLayerInfo[] {
  return choice === "all" ? [...model.normLayers] : zoaAdaptedLayers(model);
}
