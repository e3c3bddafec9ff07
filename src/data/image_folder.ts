// An ImageFolder reader (torchvision layout): ROOT/<class>/**/<image>.{jpg,jpeg,png}, classes sorted by name
// -> labels 0..K-1, files sorted per class (os.walk order). Images are decoded with jpeg-js / pngjs to planar
// RGB uint8, optionally resized so the shorter side is `resize` (bilinear, half-pixel centres) and centre-cropped
// to `crop` x `crop` — torchvision's Resize(256) + CenterCrop(224) for ImageNet(-C) evaluation, up to the
// interpolation (PIL's bilinear filter is antialiased when shrinking; this one is not).
// ImageNet-C itself: ROOT/<corruption>/<severity>/<class>/*.JPEG; `imageNetCFolder` picks one domain.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { DataFormatError, type ImageSet } from "./cifar.js";
import { bilinearResize } from "./corruptions/resize.js";

const EXTENSIONS = [".jpg", ".jpeg", ".png"];

export interface ImageFolderOptions {
  /** Resize so the shorter side has this many pixels (keeping the aspect ratio). */
  resize?: number;
  /** Centre crop to crop x crop (after resize). */
  crop?: number;
  /** Read only the first N files (in label order). */
  limit?: number;
}

export interface ImageFolderEntry {
  readonly path: string;
  readonly label: number;
}

/** A batch of decoded images; labels are 16-bit because ImageNet has 1000 classes. */
export interface ImageFolderBatch {
  images: Uint8Array; // [count, 3, height, width]
  labels: Uint16Array; // [count]
  count: number;
  /** Index of the first image of the batch in the folder. */
  start: number;
  channels: 3;
  height: number;
  width: number;
}

/** A planar RGB image. */
export interface DecodedImage {
  data: Uint8Array; // [3, height, width]
  height: number;
  width: number;
}

export class ImageFolder {
  private constructor(
    readonly root: string,
    readonly classes: readonly string[],
    readonly entries: readonly ImageFolderEntry[],
    readonly options: ImageFolderOptions,
  ) {}

  /** Scans ROOT; throws a DataFormatError when it has no class folders or no images. */
  static open(root: string, options: ImageFolderOptions = {}): ImageFolder {
    let names: string[];
    try {
      names = readdirSync(root);
    } catch (e) {
      throw new DataFormatError(root, `cannot read image folder: ${(e as Error).message}`);
    }
    const classes = names.filter((n) => statSync(join(root, n)).isDirectory()).sort();
    if (classes.length === 0) throw new DataFormatError(root, "no class sub-folders (expected ROOT/<class>/<image>.jpg)");
    const entries: ImageFolderEntry[] = [];
    classes.forEach((c, label) => {
      for (const path of walkImages(join(root, c))) entries.push({ path, label });
    });
    if (entries.length === 0) throw new DataFormatError(root, `no images with extensions ${EXTENSIONS.join(", ")} under its ${classes.length} class folders`);
    const limited = options.limit !== undefined ? entries.slice(0, Math.max(0, options.limit)) : entries;
    return new ImageFolder(root, classes, limited, options);
  }

  get count(): number {
    return this.entries.length;
  }

  /** Decodes (and resizes / crops) image i. */
  read(i: number): DecodedImage {
    const e = this.entries[i];
    if (!e) throw new RangeError(`ImageFolder: index ${i} out of range 0..${this.count - 1}`);
    return prepare(decodeImage(e.path), this.options);
  }

  /**
   * Batches in folder order; every image of a batch must have the same size (give `crop` for mixed sizes).
   * @example for await (const b of ImageFolder.open(dir, { resize: 256, crop: 224 }).batches(64)) ...
   */
  async *batches(batchSize = 64): AsyncGenerator<ImageFolderBatch> {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`ImageFolder: batch size must be >= 1, got ${batchSize}`);
    for (let start = 0; start < this.count; start += batchSize) {
      const count = Math.min(batchSize, this.count - start);
      const first = this.read(start);
      const per = 3 * first.height * first.width;
      const images = new Uint8Array(count * per);
      const labels = new Uint16Array(count);
      images.set(first.data, 0);
      labels[0] = this.entries[start].label;
      for (let i = 1; i < count; i++) {
        const img = this.read(start + i);
        if (img.height !== first.height || img.width !== first.width) {
          throw new DataFormatError(this.entries[start + i].path, `is ${img.height}x${img.width} but the batch is ${first.height}x${first.width}; pass a crop size`);
        }
        images.set(img.data, i * per);
        labels[i] = this.entries[start + i].label;
      }
      yield { images, labels, count, start, channels: 3, height: first.height, width: first.width };
      // Let other work run between batches (decoding is synchronous).
      await new Promise<void>((r) => setImmediate(r));
    }
  }

  /** All images as an ImageSet (needs <= 256 classes for the uint8 labels, and one image size). */
  toImageSet(): ImageSet {
    if (this.classes.length > 256) throw new DataFormatError(this.root, `${this.classes.length} classes do not fit ImageSet's uint8 labels; use batches()`);
    if (this.count === 0) throw new DataFormatError(this.root, "no images");
    const first = this.read(0);
    const per = 3 * first.height * first.width;
    const images = new Uint8Array(this.count * per);
    const labels = new Uint8Array(this.count);
    for (let i = 0; i < this.count; i++) {
      const img = i === 0 ? first : this.read(i);
      if (img.height !== first.height || img.width !== first.width) {
        throw new DataFormatError(this.entries[i].path, `is ${img.height}x${img.width}, not ${first.height}x${first.width}; pass a crop size`);
      }
      images.set(img.data, i * per);
      labels[i] = this.entries[i].label;
    }
    return { images, labels, count: this.count, channels: 3, height: first.height, width: first.width };
  }
}

/** The ImageNet-C folder of one domain: ROOT/<corruption>/<severity>. */
export function imageNetCFolder(root: string, corruption: string, severity: number, options: ImageFolderOptions = {}): ImageFolder {
  return ImageFolder.open(join(root, corruption, String(severity)), options);
}

function walkImages(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...walkImages(p));
    else if (EXTENSIONS.some((x) => name.toLowerCase().endsWith(x))) out.push(p);
  }
  return out;
}

/** Decodes a PNG or JPEG file to planar RGB (alpha dropped, grey replicated). */
export function decodeImage(path: string): DecodedImage {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new DataFormatError(path, `cannot read: ${(e as Error).message}`);
  }
  let rgba: Uint8Array;
  let width: number;
  let height: number;
  try {
    if (bytes[0] === 0x89 && bytes[1] === 0x50) {
      const png = PNG.sync.read(bytes);
      ({ width, height } = png);
      rgba = png.data;
    } else {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
      ({ width, height } = img);
      rgba = img.data;
    }
  } catch (e) {
    throw new DataFormatError(path, `cannot decode image: ${(e as Error).message}`);
  }
  const plane = width * height;
  const data = new Uint8Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    data[i] = rgba[4 * i];
    data[plane + i] = rgba[4 * i + 1];
    data[2 * plane + i] = rgba[4 * i + 2];
  }
  return { data, height, width };
}

/** Shorter-side resize then centre crop, per the options. */
export function prepare(img: DecodedImage, opts: ImageFolderOptions): DecodedImage {
  let cur = img;
  if (opts.resize !== undefined && Math.min(cur.height, cur.width) !== opts.resize) {
    // torchvision: the shorter side becomes `resize`, the longer int(resize * long / short).
    const h = cur.height <= cur.width ? opts.resize : Math.trunc(opts.resize * (cur.height / cur.width));
    const w = cur.width < cur.height ? opts.resize : Math.trunc(opts.resize * (cur.width / cur.height));
    cur = resizeImage(cur, h, w);
  }
  if (opts.crop !== undefined) {
    const c = opts.crop;
    if (cur.height < c || cur.width < c) cur = resizeImage(cur, Math.max(c, cur.height), Math.max(c, cur.width));
    // torchvision CenterCrop: top = round((h - c) / 2).
    const top = Math.round((cur.height - c) / 2);
    const left = Math.round((cur.width - c) / 2);
    const out = new Uint8Array(3 * c * c);
    for (let ch = 0; ch < 3; ch++) {
      for (let y = 0; y < c; y++) {
        const src = ch * cur.height * cur.width + (top + y) * cur.width + left;
        out.set(cur.data.subarray(src, src + c), ch * c * c + y * c);
      }
    }
    cur = { data: out, height: c, width: c };
  }
  return cur;
}

function resizeImage(img: DecodedImage, height: number, width: number): DecodedImage {
  const plane = img.height * img.width;
  const out = new Uint8Array(3 * height * width);
  for (let c = 0; c < 3; c++) out.set(bilinearResize(img.data.subarray(c * plane, (c + 1) * plane), img.height, img.width, height, width), c * height * width);
  return { data: out, height, width };
}
