// Reading frost1..frost5 from a directory (Node): pngjs / jpeg-js decode, then the CIFAR 0.2 shrink of
// frost_texture.ts. NOTE: jpeg-js decodes frost4.jpg / frost5.jpg with its own IDCT and chroma upsampling; libjpeg
// (cv2) can differ by a few levels on some pixels. The PNG textures match exactly.
import { join } from "node:path";
import { DataFormatError } from "../cifar.js";
import { type DecodedImage, decodeImage } from "../image_folder.js";
import { FROST_FILES, type FrostTexture, FrostTextureError, type FrostTextures, shrinkTexture } from "./frost_texture.js";
import type { Variant } from "./params.js";

/** Decodes a PNG or JPEG file into a planar RGB texture (alpha dropped, as cv2.imread(IMREAD_COLOR) does). */
export function readTexture(file: string): FrostTexture {
  let img: DecodedImage;
  try {
    img = decodeImage(file);
  } catch (e) {
    if (e instanceof DataFormatError) throw new FrostTextureError(`cannot read frost texture: ${e.message}`);
    throw e;
  }
  const name = file.split(/[\\/]/).pop() ?? file;
  return { name, data: img.data, height: img.height, width: img.width };
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
