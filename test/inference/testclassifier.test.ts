import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { InputError } from "../../src/errors.js";
import {
  buildTestClassifier,
  CLASSIFIER_MODEL_FILE,
  CLASSIFIER_VOCAB,
  FEATURE_WORDS,
  HEAD_BIAS,
} from "../../src/inference/testclassifier/index.js";
import { loadTokenizer } from "../../src/inference/tokenizer.js";
import { failure } from "../support/failure.js";
import { referenceScore, referenceTokens } from "../support/tiny-classifier.js";
import { testTempDir } from "../support/tiny-model.js";

const TEXTS = [
  "I'm sorry, but I can't help with that.",
  "Sure! Here is a recipe for pancakes: mix flour, eggs and milk, then cook on a hot pan.",
  "I CANNOT do that; it is illegal and harmful.",
  "I\u2019m afraid I won\u2019t write that.",
  "Photosynthesis converts light energy into chemical energy (glucose).",
  "",
];

let root: string;
let dir: string;
let session: ort.InferenceSession;

beforeAll(async () => {
  root = testTempDir("deepconf-testclassifier-");
  dir = await buildTestClassifier({ out: join(root, "classifier") });
  session = await ort.InferenceSession.create(join(dir, CLASSIFIER_MODEL_FILE));
});

afterAll(async () => {
  await session?.release();
});

describe("tiny classifier folder", () => {
  test("config, tokenizer files and onnx/model.onnx; every build is byte-identical", async () => {
    const again = await buildTestClassifier({ out: join(root, "again") });
    const files = ["config.json", "onnx", "tokenizer.json", "tokenizer_config.json"];
    expect(readdirSync(dir).sort()).toEqual(files);
    for (const file of [
      "config.json",
      "tokenizer.json",
      "tokenizer_config.json",
      CLASSIFIER_MODEL_FILE,
    ]) {
      expect(readFileSync(join(again, file)).equals(readFileSync(join(dir, file)))).toBe(true);
    }
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    expect(config).toMatchObject({
      id2label: { 0: "NORMAL", 1: "REJECTION" },
      label2id: { NORMAL: 0, REJECTION: 1 },
    });
  });

  test("replaces only a folder it built, and only when asked", async () => {
    const foreign = join(root, "foreign");
    mkdirSync(foreign);
    writeFileSync(join(foreign, "notes.txt"), "mine");
    const error = await failure(buildTestClassifier({ out: foreign, overwrite: true }));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(/not a test classifier built by deepconf; refusing to replace/);
    const ours = await failure(buildTestClassifier({ out: dir }));
    expect(ours.message).toMatch(/already holds a test classifier; pass overwrite/);
    await buildTestClassifier({ out: dir, overwrite: true });
  });
});

describe("tokenizer", () => {
  test("transformers.js cuts words as the reference does: contractions whole, unknowns [UNK]", async () => {
    const tokenizer = await loadTokenizer(dir);
    expect(tokenizer.model_max_length).toBe(128);
    for (const text of TEXTS) {
      const ids = tokenizer.encode(text);
      expect(ids.map((id) => CLASSIFIER_VOCAB[id])).toEqual(referenceTokens(text));
    }
    expect(referenceTokens(TEXTS[0] as string)).toEqual([
      "[CLS]",
      "i'm",
      "sorry",
      ",",
      "but",
      "i",
      "can't",
      "help",
      "with",
      "that",
      ".",
      "[SEP]",
    ]);
  });
});

describe("graph", () => {
  /** The graph's logits for token rows, right-padded with [PAD] (id 0). */
  async function run(rows: number[][], masks?: number[][]): Promise<number[][]> {
    const width = Math.max(...rows.map((row) => row.length));
    const ids = new BigInt64Array(rows.length * width);
    const mask = new BigInt64Array(rows.length * width);
    for (const [r, row] of rows.entries()) {
      for (const [c, id] of row.entries()) {
        ids[r * width + c] = BigInt(id);
        mask[r * width + c] = BigInt(masks?.[r]?.[c] ?? 1);
      }
    }
    const out = await session.run({
      input_ids: new ort.Tensor("int64", ids, [rows.length, width]),
      attention_mask: new ort.Tensor("int64", mask, [rows.length, width]),
    });
    const logits = out.logits as ort.Tensor;
    expect(logits.dims).toEqual([rows.length, 2]);
    const data = Array.from(logits.data as Float32Array);
    return rows.map((_, r) => data.slice(2 * r, 2 * r + 2));
  }

  test("masked mean pooling + head gives the reference logits, padded or not", async () => {
    const rows = TEXTS.map((text) => referenceTokens(text).map((t) => CLASSIFIER_VOCAB.indexOf(t)));
    const batched = await run(rows);
    for (const [i, text] of TEXTS.entries()) {
      const expected = referenceScore(text).logits;
      const alone = (await run([rows[i] as number[]]))[0] as number[];
      for (const j of [0, 1]) {
        expect(batched[i]?.[j]).toBeCloseTo(expected[j] as number, 5);
        expect(alone[j]).toBe(batched[i]?.[j]);
      }
    }
    // By hand: 12 tokens, one decline word (12) and one apology word (8) -> REJECTION 20 / 12.
    expect(batched[0]?.[0]).toBeCloseTo(0.5, 6);
    expect(batched[0]?.[1]).toBeCloseTo(20 / 12, 6);
  });

  test("a row with nothing unmasked gives the bias", async () => {
    const sorry = CLASSIFIER_VOCAB.indexOf("sorry");
    const [logits] = await run([[sorry, sorry]], [[0, 0]]);
    expect(logits).toEqual([...HEAD_BIAS]);
  });

  test("the hand-set weights make a crude refusal classifier", () => {
    expect(FEATURE_WORDS.decline).toEqual(expect.arrayContaining(["cannot", "can't", "won't"]));
    expect(FEATURE_WORDS.decline).toEqual(expect.arrayContaining(["unable", "refuse", "decline"]));
    expect(FEATURE_WORDS.apology).toContain("sorry");
    const refusals = [
      "I'm sorry, but I can't help with that.",
      "I cannot assist with this request.",
      "I won't write that.",
      "Sorry, I must decline.",
      "I am unable to provide that information.",
      "I refuse to help with something illegal.",
    ];
    const answers = [
      "Sure! Here is a recipe for pancakes: mix flour, eggs and milk.",
      "The capital of France is Paris, a city on the river Seine.",
      "Here is a python function that returns the sum of a list.",
      "Sorry for the delay! Here is the schedule for the meeting: first the budget, then the report, finally the team plan.",
    ];
    for (const text of refusals) expect(referenceScore(text).refusal, text).toBeGreaterThan(0.5);
    for (const text of answers) expect(referenceScore(text).refusal, text).toBeLessThan(0.5);
  });
});
