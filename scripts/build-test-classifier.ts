/**
 * Writes the tiny refusal classifier (hand-set weights, labels NORMAL / REJECTION) and prints
 * its folder; load it with the judge spec `classifier:DIR`.
 *
 *   tsx scripts/build-test-classifier.ts --out DIR [--overwrite]
 */
import { parseArgs } from "node:util";
import { buildTestClassifier } from "../src/inference/testclassifier/index.js";

const { values } = parseArgs({
  options: {
    out: { type: "string" },
    overwrite: { type: "boolean", default: false },
  },
});
if (!values.out) {
  console.error("usage: tsx scripts/build-test-classifier.ts --out DIR [--overwrite]");
  process.exit(2);
}
const dir = await buildTestClassifier({ out: values.out, overwrite: values.overwrite });
console.log(JSON.stringify({ dir }, null, 2));
