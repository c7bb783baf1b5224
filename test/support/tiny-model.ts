/** The tiny Qwen3 test model and temporary folders, both under the run's temporary root. */
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { inject } from "vitest";

/** The tiny test model built once per test run (seed 1). Do not write into it. */
export function tinyModelDir(): string {
  return inject("tinyModelDir");
}

/** A fresh folder under the run's temporary root (removed when the run ends). */
export function testTempDir(prefix = "tmp-"): string {
  return mkdtempSync(join(inject("testRoot"), prefix));
}
