// `npm run bench -- --only a,b` re-measures some sections: their tables replace the sections of the same
// "## " heading in the existing BENCHMARKS.md (in place), new ones are appended, and every other section and
// the file's header stay as they were.

/** Splits Markdown into the text before the first "## " heading and the "## " sections (heading line + body). */
export function splitSections(md: string): { head: string; sections: string[] } {
  const parts = md.split(/^(?=## )/m);
  const head = parts[0].startsWith("## ") ? "" : parts.shift() ?? "";
  return { head, sections: parts.map((s) => s.trimEnd()) };
}

function heading(section: string): string {
  return section.split("\n", 1)[0].trim();
}

/** `existing` with each of `updates` (full sections, "## title\n...") replacing its namesake or appended. */
export function mergeSections(existing: string, updates: readonly string[]): string {
  const { head, sections } = splitSections(existing);
  const out = [...sections];
  for (const u of updates) {
    const i = out.findIndex((s) => heading(s) === heading(u));
    if (i >= 0) out[i] = u.trimEnd();
    else out.push(u.trimEnd());
  }
  return `${head.trimEnd()}\n\n${out.join("\n\n")}\n`;
}
