// ImageFolder: sorted classes -> labels, PNG and JPEG decoding, shorter-side resize + centre crop, batches,
// the ImageNet-C layout, and clear errors.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { afterAll, describe, expect, it } from "vitest";
import { DataFormatError } from "../../src/data/cifar.js";
import { ImageFolder, decodeImage, imageNetCFolder, prepare } from "../../src/data/image_folder.js";

const root = mkdtempSync(join(tmpdir(), "zoa-folder-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function rgba(w: number, h: number, f: (x: number, y: number) => [number, number, number]): Uint8Array {
  const d = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [r, g, b] = f(x, y);
      d.set([r, g, b, 255], (y * w + x) * 4);
    }
  }
  return d;
}

function writePng(file: string, w: number, h: number, f: (x: number, y: number) => [number, number, number]): void {
  const png = new PNG({ width: w, height: h });
  png.data = Buffer.from(rgba(w, h, f));
  writeFileSync(file, PNG.sync.write(png));
}

function writeJpeg(file: string, w: number, h: number, color: [number, number, number]): void {
  writeFileSync(file, jpeg.encode({ data: rgba(w, h, () => color), width: w, height: h }, 95).data);
}

// ROOT/zebra/{b.png, a.jpg}, ROOT/ant/{sub/c.png}, ROOT/notes.txt
const folder = join(root, "set");
mkdirSync(join(folder, "zebra"), { recursive: true });
mkdirSync(join(folder, "ant", "sub"), { recursive: true });
writePng(join(folder, "zebra", "b.png"), 48, 32, (x, y) => [x * 5, y * 7, 9]);
writeJpeg(join(folder, "zebra", "a.jpg"), 40, 40, [200, 30, 60]);
writePng(join(folder, "ant", "sub", "c.png"), 36, 64, () => [1, 2, 3]);
writeFileSync(join(folder, "zebra", "notes.txt"), "not an image");

describe("ImageFolder", () => {
  it("sorts classes into labels and files within a class (recursively)", () => {
    const f = ImageFolder.open(folder);
    expect(f.classes).toEqual(["ant", "zebra"]);
    expect(f.entries.map((e) => [e.path.slice(folder.length + 1), e.label])).toEqual([
      [join("ant", "sub", "c.png"), 0],
      [join("zebra", "a.jpg"), 1],
      [join("zebra", "b.png"), 1],
    ]);
  });

  it("decodes PNG exactly and JPEG closely, as planar RGB", () => {
    const png = decodeImage(join(folder, "zebra", "b.png"));
    expect([png.height, png.width]).toEqual([32, 48]);
    const plane = 32 * 48;
    expect([png.data[3 * 48 + 2], png.data[plane + 3 * 48 + 2], png.data[2 * plane]]).toEqual([10, 21, 9]);
    const jpg = decodeImage(join(folder, "zebra", "a.jpg"));
    expect(Math.abs(jpg.data[0] - 200)).toBeLessThan(4);
    expect(Math.abs(jpg.data[1600] - 30)).toBeLessThan(4);
  });

  it("resizes the shorter side and centre-crops (torchvision Resize + CenterCrop)", () => {
    const img = prepare(decodeImage(join(folder, "zebra", "b.png")), { resize: 16 });
    expect([img.height, img.width]).toEqual([16, 24]);
    const tall = prepare(decodeImage(join(folder, "ant", "sub", "c.png")), { resize: 18, crop: 16 });
    expect([tall.height, tall.width]).toEqual([16, 16]);
    expect(tall.data.every((v, i) => v === [1, 2, 3][Math.floor(i / 256)])).toBe(true);
  });

  it("yields batches of uniform size with 16-bit labels, and an ImageSet", async () => {
    const f = ImageFolder.open(folder, { resize: 20, crop: 16 });
    const batches = [];
    for await (const b of f.batches(2)) batches.push(b);
    expect(batches.map((b) => [b.count, b.start, b.height])).toEqual([
      [2, 0, 16],
      [1, 2, 16],
    ]);
    expect(Array.from(batches[0].labels)).toEqual([0, 1]);
    expect(batches[0].labels).toBeInstanceOf(Uint16Array);
    const set = f.toImageSet();
    expect([set.count, set.height, set.width]).toEqual([3, 16, 16]);
    expect(Array.from(set.labels)).toEqual([0, 1, 1]);
  });

  it("refuses mixed sizes without a crop, and empty or missing folders", async () => {
    const f = ImageFolder.open(folder);
    await expect(async () => {
      for await (const _ of f.batches(3)) void _;
    }).rejects.toThrow(/pass a crop size/);
    mkdirSync(join(root, "empty", "cls"), { recursive: true });
    expect(() => ImageFolder.open(join(root, "empty"))).toThrow(DataFormatError);
    expect(() => ImageFolder.open(join(root, "nope"))).toThrow(/cannot read image folder/);
  });

  it("opens one ImageNet-C domain: ROOT/<corruption>/<severity>/<class>", () => {
    const c = join(root, "inc", "fog", "5", "n01440764");
    mkdirSync(c, { recursive: true });
    writePng(join(c, "x.png"), 8, 8, () => [5, 5, 5]);
    const f = imageNetCFolder(join(root, "inc"), "fog", 5);
    expect(f.classes).toEqual(["n01440764"]);
    expect(f.count).toBe(1);
  });
});
