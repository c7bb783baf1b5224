/**
 * The classifier judge beside the rules, end to end: `deepconf refusal eval --judge` scores it and
 * its agreement; `deepconf run --judge` keeps its verdict on every trace and summary.json records
 * the agreement, while the vote still follows the rules. The judge is the project's own tiny
 * classifier: nothing is downloaded.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { buildTestClassifier } from "../../src/inference/testclassifier/index.js";
import { deepconf, tempFile } from "../support/cli.js";
import { referenceScore } from "../support/tiny-classifier.js";
import { testTempDir, tinyModelDir } from "../support/tiny-model.js";

let classifier: string;
beforeAll(async () => {
  classifier = await buildTestClassifier({ out: join(testTempDir("judge-"), "classifier") });
});

describe("deepconf refusal eval --judge", () => {
  test("scores the classifier against the labels and its agreement with the rules", async () => {
    const texts = [
      ["I'm sorry, but I can't help with that.", true],
      ["I won't write that, sorry.", true],
      ["Sure! Here is a recipe for pancakes: mix flour, eggs and milk.", false],
      ["The capital of France is Paris.", false],
    ] as const;
    const file = tempFile(
      "labels.jsonl",
      texts.map(([text, refusal]) => JSON.stringify({ text, refusal })).join("\n"),
    );
    const run = await deepconf(
      "refusal",
      "eval",
      file,
      "--json",
      "--judge",
      `classifier:${classifier}`,
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    // the expected verdicts come from the classifier's reference math, not from the model file
    const expected = texts.map(([text]) => referenceScore(text).refusal > 0.5);
    const tp = texts.filter(([, gold], i) => gold && expected[i]).length;
    const fp = texts.filter(([, gold], i) => !gold && expected[i]).length;
    expect(report.judge.binary.confusion.tp).toBe(tp);
    expect(report.judge.binary.confusion.fp).toBe(fp);
    const rules = [true, true, false, false];
    const agree = expected.filter((v, i) => v === rules[i]).length;
    expect(report.judge.agreement).toMatchObject({ n: 4, agree, unpaired: 0 });
  });

  test("a bad judge spec is exit 2 saying what is expected", async () => {
    const file = tempFile("one.jsonl", '{"text": "ok", "refusal": false}\n');
    const run = await deepconf("refusal", "eval", file, "--judge", "classifier:./no/such/folder");
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/no\/such\/folder/);
  });
});

describe("deepconf run --judge", () => {
  test("every trace keeps the classifier's verdict; the summary records agreement", async () => {
    const out = testTempDir("runs-judge-");
    const args = [
      "run",
      "--model",
      tinyModelDir(),
      "--benchmark",
      "sample",
      "--limit",
      "2",
      "--method",
      "baseline",
      "--budget",
      "2",
      "--max-new-tokens",
      "8",
      "--out",
      out,
      "--cache-dir",
      join(out, "cache"),
      "--judge",
      `classifier:${classifier}`,
    ];
    const run = await deepconf(...args);
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code).toBe(0);
    const dirs = readdirSync(out).filter((name) => name !== "cache");
    expect(dirs).toHaveLength(1);
    const dir = join(out, dirs[0] as string);
    const predictions = readFileSync(join(dir, "predictions.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(predictions).toHaveLength(2);
    const traces = predictions.flatMap((p) => p.traces);
    for (const trace of traces) {
      expect(trace).toHaveProperty("judge");
      if (trace.judge !== null) {
        expect(trace.judge.score).toBeCloseTo(referenceScore(answerOf(trace.text)).refusal, 4);
      }
    }
    const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
    const paired = traces.filter((t) => t.judge !== null).length;
    expect(paired).toBeGreaterThan(0);
    expect(summary.judgement.judge.n + summary.judgement.judge.unpaired).toBe(traces.length);
    expect(summary.judgement.judge.n).toBeLessThanOrEqual(paired);
    expect(run.stdout + run.stderr).toContain("classifier judge agrees with the rules on");
    const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
    expect(JSON.stringify(manifest)).toContain(classifier);
  });
});

/** The text the classifier judges: the answer after the last </think>. */
function answerOf(text: string): string {
  const close = text.toLowerCase().lastIndexOf("</think>");
  return close < 0 ? text : text.slice(close + "</think>".length);
}
