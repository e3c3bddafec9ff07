// The images `zoa demo` streams and calibrates on: the procedural task the demo models were trained on
// (training set = data seed 1, held-out test set = seed 2, as tools/train/train_demo.ts), or CIFAR-10 binary files.
import { type ImageSet, readCifar } from "../data/cifar.js";
import { proceduralSet } from "../data/procedural.js";
import { UsageError } from "./args.js";

export interface DemoData {
  /** One line for the reports, e.g. "procedural (train seed 1, test seed 2)". */
  describe: string;
  /** The first n clean test images, side `size` (the stream corrupts them). */
  test(size: number, n: number): ImageSet;
  /** The first n clean training images (calibration and source statistics). */
  train(size: number, n: number): ImageSet;
}

/** The demo models' training data seed; the test set uses seed + 1. */
export const PROCEDURAL_TRAIN_SEED = 1;

export function proceduralData(): DemoData {
  const cache = new Map<string, ImageSet>();
  const get = (seed: number, size: number, n: number): ImageSet => {
    const key = `${seed}|${size}|${n}`;
    let set = cache.get(key);
    if (!set) {
      set = proceduralSet(n, seed, { size });
      cache.set(key, set);
    }
    return set;
  };
  return {
    describe: `procedural shapes and textures (src/data/procedural.ts; train seed ${PROCEDURAL_TRAIN_SEED}, test seed ${PROCEDURAL_TRAIN_SEED + 1})`,
    test: (size, n) => get(PROCEDURAL_TRAIN_SEED + 1, size, n),
    train: (size, n) => get(PROCEDURAL_TRAIN_SEED, size, n),
  };
}

/** CIFAR-10 binary files: `testFile` streamed, `trainFile` for calibration. Models must take 32x32 images. */
export function cifarData(testFile: string, trainFile: string): DemoData {
  const check = (size: number) => {
    if (size !== 32) throw new UsageError(`zoa demo: CIFAR-10 images are 32x32 but the model takes ${size}x${size}`);
  };
  return {
    describe: `CIFAR-10 binary: stream ${testFile}, calibration ${trainFile}`,
    test: (size, n) => {
      check(size);
      return readCifar(testFile, n);
    },
    train: (size, n) => {
      check(size);
      return readCifar(trainFile, n);
    },
  };
}
