// Reading frost1..frost5 from a directory (Node): pngjs / jpeg-js decode, then the CIFAR 0.2 shrink of
// frost_texture.ts. NOTE: jpeg-js decodes frost4.jpg / frost5.jpg with its own IDCT and chroma upsampling; libjpeg
// (cv2) can differ by a few levels on some pixels. The PNG textures match exactly.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { FROST_FILES, type FrostTexture, FrostTextureError, type FrostTextures, shrinkTexture } from "./frost_texture.js";
import type { Variant } from "./params.js";

/** Decodes a PNG or JPEG file into a planar RGB texture (alpha dropped, as cv2.imread(IMREAD_COLOR) does). */
export function readTexture(file: string): FrostTexture {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new FrostTextureError(`${file}: cannot read frost texture: ${(e as Error).message}`);
  }
  let rgba: Uint8Array;
  let width: number;
  let height: number;
  if (file.toLowerCase().endsWith(".png")) {
    const png = PNG.sync.read(bytes);
    rgba = png.data;
    width = png.width;
    height = png.height;
  } else {
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
    rgba = img.data;
    width = img.width;
    height = img.height;
  }
  const plane = width * height;
  const data = new Uint8Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    data[i] = rgba[4 * i];
    data[plane + i] = rgba[4 * i + 1];
    data[2 * plane + i] = rgba[4 * i + 2];
  }
  const name = file.split(/[\\/]/).pop() ?? file;
  return { name, data, height, width };
}

const cache = new Map<string, FrostTextures>();

/** frost1..frost5 from a directory, prepared for the variant (shrunk by 0.2 for CIFAR). Cached per (dir, variant). */
export function loadFrostTextures(dir: string, variant: Variant): FrostTextures {
  const key = `dir:${dir}:${variant}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const textures = FROST_FILES.map((f) => {
    const t = readTexture(join(dir, f));
    return variant === "cifar" ? shrinkTexture(t, 0.2) : t;
  });
  const out: FrostTextures = { source: `dir:${dir}`, variant, textures };
  cache.set(key, out);
  return out;
}
