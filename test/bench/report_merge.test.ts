// `--only` updates BENCHMARKS.md section by section: same-heading sections are replaced in place, new ones
// appended, the header and the other sections kept byte for byte.
import { describe, expect, it } from "vitest";
import { mergeSections, splitSections } from "../../bench/report_merge.js";

const FILE = "# zoa-ts benchmarks\n\nMachine: X.\n\n## A\n\n| a |\n\n## B\n\nold b\n\n## C\n\nc\n";

describe("mergeSections", () => {
  it("splits the header from the ## sections", () => {
    const { head, sections } = splitSections(FILE);
    expect(head).toBe("# zoa-ts benchmarks\n\nMachine: X.\n\n");
    expect(sections).toEqual(["## A\n\n| a |", "## B\n\nold b", "## C\n\nc"]);
  });

  it("replaces a section of the same heading in place and keeps the rest", () => {
    expect(mergeSections(FILE, ["## B\n\nnew b\n"])).toBe("# zoa-ts benchmarks\n\nMachine: X.\n\n## A\n\n| a |\n\n## B\n\nnew b\n\n## C\n\nc\n");
  });

  it("appends a section with a new heading", () => {
    expect(mergeSections(FILE, ["## D\n\nd"]).endsWith("## C\n\nc\n\n## D\n\nd\n")).toBe(true);
  });

  it("does not treat ### headings or mid-line ## as section starts", () => {
    const md = "# t\n\n## A\n\n### sub\n\ntext ## not a heading\n";
    expect(splitSections(md).sections).toEqual(["## A\n\n### sub\n\ntext ## not a heading"]);
    expect(mergeSections(md, ["## A\n\nx"])).toBe("# t\n\n## A\n\nx\n");
  });
});
