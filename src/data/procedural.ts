// A seeded procedural 10-class image task, so the demo models can be trained without anyone else's data:
// five shapes (disk, ring, square, triangle, cross) at random position, size and rotation, and five textures
// (horizontal stripes, vertical stripes, checkerboard, diagonal gradient, scattered dots) in a random window,
// each in a random foreground colour over a random, faintly shaded background, plus uniform pixel noise.
// Every image is drawn as coverage alpha(x, y) in [0, 1] (a signed distance with a one-pixel soft edge) and
// blended: pixel = bg * (1 - alpha) + fg * alpha + shading + noise. Image i uses its own stream Rng(seed, i),
// so a set is the same bytes for the same seed on every machine.
import { Rng } from "../tensor/rng.js";
import type { ImageSet } from "./cifar.js";

export const PROCEDURAL_CLASSES = [
  "disk",
  "ring",
  "square",
  "triangle",
  "cross",
  "horizontal_stripes",
  "vertical_stripes",
  "checkerboard",
  "diagonal_gradient",
  "dots",
] as const;

export interface ProceduralOptions {
  /** Image side in pixels (default 32, as CIFAR); geometry scales with it. */
  size?: number;
  /** Largest noise amplitude in pixel levels (default 12): each image draws its own in [0, noise]. */
  noise?: number;
}

/** Foreground coverage of the pixel centred at (x, y). */
type Coverage = (x: number, y: number) => number;

const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);
/** One-pixel soft edge: 1 inside (sdf <= -0.5), 0 outside (sdf >= 0.5). */
const edge = (sdf: number): number => clamp01(0.5 - sdf);

const dist = (dx: number, dy: number): number => Math.sqrt(dx * dx + dy * dy);

function shape(label: number, rng: Rng, S: number): Coverage {
  const cx = rng.uniformIn(0.3, 0.7) * S;
  const cy = rng.uniformIn(0.3, 0.7) * S;
  // Rotation by theta: u = c dx + s dy, v = -s dx + c dy.
  const theta = rng.uniformIn(0, Math.PI / 2);
  const c = Math.cos(theta);
  const s = Math.sin(theta);
  switch (label) {
    case 0: {
      const r = rng.uniformIn(0.15, 0.3) * S;
      return (x, y) => edge(dist(x - cx, y - cy) - r);
    }
    case 1: {
      const r = rng.uniformIn(0.18, 0.32) * S;
      const t = rng.uniformIn(0.06, 0.1) * S;
      return (x, y) => edge(Math.abs(dist(x - cx, y - cy) - r) - t / 2);
    }
    case 2: {
      const h = rng.uniformIn(0.13, 0.25) * S;
      return (x, y) => {
        const [dx, dy] = [x - cx, y - cy];
        return edge(Math.max(Math.abs(c * dx + s * dy), Math.abs(c * dy - s * dx)) - h);
      };
    }
    case 3: {
      // Equilateral triangle of circumradius R: inside where every edge normal n_k has p.n_k <= R/2.
      const R = rng.uniformIn(0.2, 0.33) * S;
      const phi = rng.uniformIn(0, 2 * Math.PI);
      const nx = [0, 1, 2].map((k) => Math.cos(phi + (2 * Math.PI * k) / 3));
      const ny = [0, 1, 2].map((k) => Math.sin(phi + (2 * Math.PI * k) / 3));
      return (x, y) => {
        const [dx, dy] = [x - cx, y - cy];
        return edge(Math.max(dx * nx[0] + dy * ny[0], dx * nx[1] + dy * ny[1], dx * nx[2] + dy * ny[2]) - R / 2);
      };
    }
    case 4: {
      const a = rng.uniformIn(0.18, 0.3) * S;
      const t = rng.uniformIn(0.06, 0.1) * S;
      return (x, y) => {
        const [dx, dy] = [x - cx, y - cy];
        const au = Math.abs(c * dx + s * dy);
        const av = Math.abs(c * dy - s * dx);
        return edge(Math.min(Math.max(au - a, av - t / 2), Math.max(au - t / 2, av - a)));
      };
    }
    default:
      throw new RangeError(`procedural: shape class ${label}`);
  }
}

function texture(label: number, rng: Rng, S: number): Coverage {
  const phase = rng.uniformIn(0, 2 * Math.PI);
  switch (label) {
    case 5:
    case 6: {
      // Stripes varying along y (horizontal stripes) or x (vertical), tilted by up to 0.3 rad.
      const period = rng.uniformIn(0.12, 0.22) * S;
      const tilt = rng.uniformIn(-0.3, 0.3) + (label === 5 ? Math.PI / 2 : 0);
      const [dx, dy] = [Math.cos(tilt), Math.sin(tilt)];
      return (x, y) => clamp01(0.5 + 1.5 * Math.sin(((x * dx + y * dy) * 2 * Math.PI) / period + phase));
    }
    case 7: {
      const period = rng.uniformIn(0.2, 0.35) * S;
      const theta = rng.uniformIn(0, Math.PI / 2);
      const [c, s] = [Math.cos(theta), Math.sin(theta)];
      const phase2 = rng.uniformIn(0, 2 * Math.PI);
      const k = (2 * Math.PI) / period;
      return (x, y) => clamp01(0.5 + 3 * Math.sin((c * x + s * y) * k + phase) * Math.sin((c * y - s * x) * k + phase2));
    }
    case 8: {
      // A ramp along one of the two diagonals (+-0.3 rad) over a length of 0.5S..S.
      const angle = (rng.uniform() < 0.5 ? Math.PI / 4 : (3 * Math.PI) / 4) + rng.uniformIn(-0.3, 0.3);
      const length = rng.uniformIn(0.5, 1) * S;
      const [dx, dy] = [Math.cos(angle), Math.sin(angle)];
      const c = S / 2;
      return (x, y) => clamp01(0.5 + ((x - c) * dx + (y - c) * dy) / length);
    }
    case 9: {
      const n = rng.int(6, 15);
      const r = rng.uniformIn(0.045, 0.075) * S;
      const px = new Float64Array(n);
      const py = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        px[i] = rng.uniformIn(0.05, 0.95) * S;
        py[i] = rng.uniformIn(0.05, 0.95) * S;
      }
      return (x, y) => {
        let a = 0;
        for (let i = 0; i < n; i++) {
          const [dx, dy] = [x - px[i], y - py[i]];
          if (Math.abs(dx) < r + 1 && Math.abs(dy) < r + 1) a = Math.max(a, edge(dist(dx, dy) - r));
        }
        return a;
      };
    }
    default:
      throw new RangeError(`procedural: texture class ${label}`);
  }
}

/** The texture's window: the whole image half of the time, else a random box covering at least the middle half. */
function textureWindow(rng: Rng, S: number): Coverage {
  if (rng.uniform() < 0.5) return () => 1;
  const x0 = rng.uniformIn(0, 0.25) * S;
  const x1 = rng.uniformIn(0.75, 1) * S;
  const y0 = rng.uniformIn(0, 0.25) * S;
  const y1 = rng.uniformIn(0.75, 1) * S;
  return (x, y) => edge(Math.max(x0 - x, x - x1, y0 - y, y - y1));
}

function randomColour(rng: Rng): [number, number, number] {
  return [rng.uniformIn(0, 256), rng.uniformIn(0, 256), rng.uniformIn(0, 256)];
}

/** Draws one image of class `label` into out[offset...] as planar [3, S, S] bytes. */
export function drawProcedural(label: number, rng: Rng, S: number, maxNoise: number, out: Uint8Array, offset: number): void {
  const bg = randomColour(rng);
  let fg = randomColour(rng);
  // Foreground at least 90 levels (Euclidean RGB) from the background, so every class stays visible.
  while (Math.sqrt((fg[0] - bg[0]) ** 2 + (fg[1] - bg[1]) ** 2 + (fg[2] - bg[2]) ** 2) < 90) fg = randomColour(rng);
  let cover: Coverage;
  if (label < 5) cover = shape(label, rng, S);
  else {
    const tex = texture(label, rng, S);
    const win = textureWindow(rng, S);
    cover = (x, y) => tex(x, y) * win(x, y);
  }
  // Background shading: a linear ramp of up to +-25 levels in a random direction.
  const shadeAngle = rng.uniformIn(0, 2 * Math.PI);
  const shade = (rng.uniformIn(0, 25) * 2) / S;
  const [sx, sy] = [Math.cos(shadeAngle) * shade, Math.sin(shadeAngle) * shade];
  const noise = rng.uniformIn(0, maxNoise);
  const plane = S * S;
  const amp = (2 * noise) / 1023;
  // NOTE: pixel noise comes from xorshift32 (Marsaglia 2003) seeded by the image's Rng: a third of the cost of
  // one PCG draw per pixel, and noise needs no better statistics.
  let state = rng.nextU32() | 1;
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const a = cover(x + 0.5, y + 0.5);
      const base = (x + 0.5 - S / 2) * sx + (y + 0.5 - S / 2) * sy - noise;
      // Three 10-bit uniform noise samples in [-noise, noise] from one 32-bit draw.
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      const bits = state >>> 0;
      const at = offset + y * S + x;
      // NOTE: a Uint8Array store clamps only through Uint8ClampedArray; clamp and round by hand.
      out[at] = toByte(bg[0] + (fg[0] - bg[0]) * a + base + amp * (bits & 1023));
      out[at + plane] = toByte(bg[1] + (fg[1] - bg[1]) * a + base + amp * ((bits >>> 10) & 1023));
      out[at + 2 * plane] = toByte(bg[2] + (fg[2] - bg[2]) * a + base + amp * ((bits >>> 20) & 1023));
    }
  }
}

const toByte = (v: number): number => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));

/**
 * `count` images, label i % 10 for image i (balanced, interleaved), drawn from seed `seed`.
 * @example const train = proceduralSet(10000, 1); const test = proceduralSet(2000, 2);
 */
export function proceduralSet(count: number, seed: number, opts: ProceduralOptions = {}): ImageSet {
  const S = opts.size ?? 32;
  const maxNoise = opts.noise ?? 12;
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`proceduralSet: count must be a non-negative integer, got ${count}`);
  if (!Number.isInteger(S) || S < 8) throw new RangeError(`proceduralSet: size must be an integer >= 8, got ${S}`);
  const per = 3 * S * S;
  const images = new Uint8Array(count * per);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % PROCEDURAL_CLASSES.length;
    drawProcedural(labels[i], new Rng(seed, i), S, maxNoise, images, i * per);
  }
  return { images, labels, count, channels: 3, height: S, width: S };
}
