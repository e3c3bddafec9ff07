// Locates ../shared (or $ZOA_SHARED). Tests that need it call `sharedPath(...)` and skip with a printed
// reason when it is absent, so `npm test` passes on a fresh clone without the data.
import { existsSync } from "node:fs";
import { resolve } from "node:path";

export const SHARED_DIR = resolve(process.env.ZOA_SHARED ?? "../shared");

/** Absolute path of a file under the shared folder, or null (with a printed reason) when it is missing. */
export function sharedPath(rel: string): string | null {
  const p = resolve(SHARED_DIR, rel);
  if (existsSync(p)) return p;
  console.warn(`[skip] ${rel} not found under ${SHARED_DIR} (set ZOA_SHARED to the shared folder to run this test)`);
  return null;
}
