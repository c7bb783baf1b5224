/**
 * Runs once before all test files: one temporary root for every file the tests write (removed
 * at the end) and the tiny Qwen3 test model built once into it. Later: services the tests need.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { buildTestModel } from "../../src/inference/testmodel/index.js";

declare module "vitest" {
  export interface ProvidedContext {
    testRoot: string;
    tinyModelDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const root = mkdtempSync(join(tmpdir(), "deepconf-test-"));
  const tiny = join(root, "models", "qwen3-tiny");
  await buildTestModel({ out: tiny, shape: "tiny", seed: 1 });
  project.provide("testRoot", root);
  project.provide("tinyModelDir", tiny);
  return () => rmSync(root, { recursive: true, force: true });
}
