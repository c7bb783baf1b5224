/**
 * Writes a Qwen3-architecture test model folder (random seeded weights, real vocabulary and
 * tokenizer, Optimum I/O) and prints a JSON summary.
 *
 *   tsx scripts/build-test-model.ts --out DIR [--shape tiny|qwen3-0.6b] [--seed S]
 *                                   [--external-data] [--overwrite]
 */
import { parseArgs } from "node:util";
import {
  buildTestModel,
  resolveShape,
  type TestModelShapeName,
} from "../src/inference/testmodel/index.js";

const { values } = parseArgs({
  options: {
    out: { type: "string" },
    shape: { type: "string", default: "tiny" },
    seed: { type: "string", default: "0" },
    "external-data": { type: "boolean", default: false },
    overwrite: { type: "boolean", default: false },
  },
});
if (!values.out) {
  console.error(
    "usage: tsx scripts/build-test-model.ts --out DIR [--shape tiny|qwen3-0.6b] [--seed S]",
  );
  process.exit(2);
}
resolveShape(values.shape); // fails early, listing the shapes
const started = performance.now();
const result = await buildTestModel({
  out: values.out,
  shape: values.shape as TestModelShapeName,
  seed: Number(values.seed),
  externalData: values["external-data"] ? true : "auto",
  overwrite: values.overwrite,
});
const summary = {
  ...result,
  shape: values.shape,
  seed: Number(values.seed),
  seconds: Math.round((performance.now() - started) / 10) / 100,
  max_rss_mib: Math.round(process.resourceUsage().maxRSS / 1024),
};
console.log(JSON.stringify(summary, null, 2));
