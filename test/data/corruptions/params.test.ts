// Severity tables: numpy.arange reproduced value for value, table shapes, variant selection.
import { describe, expect, it } from "vitest";
import { SEVERITY_TABLES, VARIANTS, numpyArange, severityParam, variantForSize } from "../../../src/data/corruptions/params.js";
import { GOLDENS } from "./goldens.js";

describe("numpyArange", () => {
  it("gives the exact float64 zoom factors numpy gives (golden from numpy)", () => {
    for (const v of VARIANTS) {
      SEVERITY_TABLES[v].zoomBlur.forEach((z, i) => {
        expect(numpyArange(1, z.stop, z.step)).toEqual(GOLDENS.arange[v][i]);
      });
    }
  });

  it("has 16 zooms at CIFAR severity 3 and 26 at severity 5", () => {
    expect(numpyArange(1, 1.16, 0.01).length).toBe(16);
    expect(numpyArange(1, 1.26, 0.01).length).toBe(26);
  });
});

describe("severity tables", () => {
  it("have five entries for every corruption in both variants", () => {
    for (const v of VARIANTS) for (const list of Object.values(SEVERITY_TABLES[v])) expect(list.length).toBe(5);
  });

  it("hold the documented CIFAR constants at severities 3 and 5", () => {
    expect(severityParam("cifar", "gaussianNoise", 3)).toBe(0.08);
    expect(severityParam("cifar", "shotNoise", 5)).toBe(50);
    expect(severityParam("cifar", "glassBlur", 5)).toEqual([0.4, 1, 2]);
    expect(severityParam("cifar", "elastic", 3)).toEqual([2.56, 1.92, 1.92]);
    expect(severityParam("cifar", "frost", 5)).toEqual([0.75, 0.45]);
    expect(severityParam("imagenet", "jpeg", 5)).toBe(7);
    expect(() => severityParam("cifar", "fog", 0)).toThrow(/1..5/);
  });

  it("are chosen by image size", () => {
    expect(variantForSize(32, 32)).toBe("cifar");
    expect(variantForSize(224, 224)).toBe("imagenet");
    expect(variantForSize(64, 64, "imagenet")).toBe("imagenet");
    expect(() => variantForSize(64, 64)).toThrow(/opts.variant/);
  });
});
