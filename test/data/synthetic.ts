// Deterministic integer-only test images and "random" streams shared with the Python golden generator
// (tools/reference/corruptions/make_goldens.py computes the same values bit for bit).

/** A planar RGB image [3, H, W]: gradients, a disk, a checker band, a white and a black corner, hash noise. */
export function syntheticImage(height: number, width: number): Uint8Array {
  const plane = height * width;
  const out = new Uint8Array(3 * plane);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const idx = y * width + x;
      let r = Math.floor((x * 255) / (width - 1));
      let g = Math.floor((y * 255) / (height - 1));
      let b = hash32(idx) >>> 24;
      const dx = 2 * x + 1 - width;
      const dy = 2 * y + 1 - height;
      if (4 * (dx * dx + dy * dy) < width * width) {
        r = 250;
        g = (x * y) % 256;
        b = 40;
      }
      if (8 * y >= height && 4 * y < height) {
        const v = ((x >> 1) + (y >> 1)) % 2 === 1 ? 230 : 20;
        r = g = b = v;
      }
      if (8 * x < width && 8 * y < height) r = g = b = 255;
      if (8 * x >= 7 * width && 8 * y >= 7 * height) r = g = b = 0;
      out[idx] = r;
      out[plane + idx] = g;
      out[2 * plane + idx] = b;
    }
  }
  return out;
}

/** (k * 2654435761 + 12345) mod 2^32, exact in doubles for k < 3e6. */
export function hash32(k: number): number {
  return (k * 2654435761 + 12345) % 4294967296;
}

/** The k-th value of the shared uniform stream in [0, 1). */
export function unitAt(k: number): number {
  return hash32(k) / 4294967296;
}
