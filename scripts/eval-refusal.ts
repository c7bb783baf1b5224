/**
 * Scores the refusal detector and the 29-string baseline on labelled responses. Prints one JSON
 * object keyed by file name (without .jsonl): n, label counts, binary scores (refusal = full or
 * partial, the positive class) with Wilson 95% intervals for precision, recall and accuracy,
 * confusion tables, ours' 3-way accuracy, per-trap error counts and ours' misclassified ids.
 *
 *   npm run eval:refusal -- [FILE.jsonl ...] [--patterns PATTERNS.json]
 *
 * Default files: the three sets of test/fixtures/refusal (see its README): labelled.jsonl was
 * written before the patterns, which were then developed against it, so its figures are
 * in-sample; holdout.jsonl and holdout-2.jsonl were written later and each measured once before
 * the misses they showed were fixed, so their current figures are optimistic too.
 */
import { basename } from "node:path";
import { parseArgs } from "node:util";
import {
  evaluateRefusal,
  RefusalDetector,
  readLabelled,
  readPatternsFile,
} from "../src/safety/refusal/index.js";

const DEFAULT_FILES = [
  "test/fixtures/refusal/labelled.jsonl",
  "test/fixtures/refusal/holdout.jsonl",
  "test/fixtures/refusal/holdout-2.jsonl",
];

const { values, positionals } = parseArgs({
  options: { patterns: { type: "string" } },
  allowPositionals: true,
});
const detector =
  values.patterns === undefined
    ? new RefusalDetector()
    : readPatternsFile(values.patterns).detector;
const files = positionals.length > 0 ? positionals : DEFAULT_FILES;
const report: Record<string, unknown> = {};
for (const file of files) {
  report[basename(file, ".jsonl")] = evaluateRefusal(await readLabelled(file), detector);
}
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
