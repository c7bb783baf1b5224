/**
 * Scores the refusal detector and the 29-string baseline on labelled responses. Prints one JSON
 * object keyed by file name (without .jsonl): the evaluation of `deepconf refusal eval` (binary
 * scores with Wilson 95% intervals, kind confusion, unknown-language counts, per language and
 * per trap, errors by kind).
 *
 *   npm run eval:refusal -- [FILE.jsonl ...] [--patterns PATTERNS.json]
 *
 * Default files: the three sets of test/fixtures/refusal (see its README): labelled.jsonl was
 * written before the patterns, which were then developed against it, so its figures are
 * in-sample; the holdouts were written later and each measured once before the misses they
 * showed were fixed, so their current figures are optimistic too (the README there has the first
 * measurements).
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
  "test/fixtures/refusal/v2-dev.jsonl",
  "test/fixtures/refusal/v2-holdout.jsonl",
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
