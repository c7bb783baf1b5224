import { cpSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { InputError } from "../../src/errors.js";
import { RepoNotFoundError } from "../../src/hf/index.js";
import { buildTestClassifier } from "../../src/inference/testclassifier/index.js";
import {
  type ClassifierJudge,
  type ClassifierJudgeOptions,
  classifierInput,
  loadClassifierJudge,
  parseJudgeSpec,
} from "../../src/safety/judge/index.js";
import { failure } from "../support/failure.js";
import { FakeHub } from "../support/fake-hub.js";
import { referenceScore } from "../support/tiny-classifier.js";
import { testTempDir } from "../support/tiny-model.js";

const REFUSAL = "I'm sorry, but I can't help with that.";
const PANCAKES =
  "Sure! Here is a recipe for pancakes: mix flour, eggs and milk, then cook on a hot pan.";
/** Mixed lengths, so batches pad. */
const TEXTS = [
  REFUSAL,
  PANCAKES,
  "No.",
  "I cannot do that. It is illegal and harmful, and it goes against my guidelines.",
  "The capital of France is Paris, a city on the river Seine with a population of two million.",
  "I\u2019m afraid I won\u2019t write that.",
  "Sorry for the delay! Here is the schedule: first the budget, then the report.",
  "Unfortunately I am unable to help.",
  "Here is a python function that returns the sum of a list of numbers.",
  "?",
];

let root: string;
let dir: string;
let judge: ClassifierJudge;
const local = (): ClassifierJudgeOptions => ({
  cacheDir: testTempDir("deepconf-cache-"),
  threads: 1,
});

/** A copy of the tiny classifier, changed by `edit`. */
function variant(edit: (copy: string) => void): string {
  const copy = join(testTempDir("deepconf-judge-"), "classifier");
  cpSync(dir, copy, { recursive: true });
  edit(copy);
  return copy;
}

function editConfig(copy: string, change: (config: Record<string, unknown>) => void): void {
  const path = join(copy, "config.json");
  const config = JSON.parse(readFileSync(path, "utf8"));
  change(config);
  writeFileSync(path, JSON.stringify(config));
}

beforeAll(async () => {
  root = testTempDir("deepconf-judge-");
  dir = await buildTestClassifier({ out: join(root, "classifier") });
  judge = await loadClassifierJudge(`classifier:${dir}`, local());
});

afterAll(async () => {
  await judge?.close();
});

describe("judge specs", () => {
  test("classifier:HUB_ID and classifier:PATH", () => {
    expect(parseJudgeSpec("classifier:protectai/distilroberta-base-rejection-v1")).toEqual({
      kind: "classifier",
      target: "protectai/distilroberta-base-rejection-v1",
    });
    expect(parseJudgeSpec(" classifier:./models/rej ")).toEqual({
      kind: "classifier",
      target: "./models/rej",
    });
  });

  test.each([
    ["", /the judge spec is empty: give classifier:HUB_ID or classifier:PATH/],
    ["classifier:", /judge spec "classifier:" names no model: give classifier:HUB_ID/],
    ["protectai/rej", /lacks its kind: write classifier:protectai\/rej/],
    ["./models/rej", /lacks its kind: write classifier:\.\/models\/rej/],
    [
      "rules:default",
      /unknown judge kind "rules" in "rules:default": the only kind is classifier:/,
    ],
  ])("%j is an InputError that says what to write", (spec, message) => {
    let error: unknown;
    try {
      parseJudgeSpec(spec);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(message);
  });
});

describe("the tiny classifier as a judge", () => {
  test("loads by path: labels, refusal label, length limit, provenance", () => {
    expect(judge.id).toBe(`classifier:${dir}`);
    expect(judge.labels).toEqual(["NORMAL", "REJECTION"]);
    expect(judge.refusalLabel).toBe("REJECTION");
    expect(judge.maxLength).toBe(128);
    expect(judge.device).toBe("cpu");
    expect(judge.model).toMatchObject({
      source: "local",
      dir,
      onnxPath: join(dir, "onnx/model.onnx"),
    });
    expect(judge.model.fileHash).toMatch(/^[0-9a-f]{64}$/);
    expect(judge.notes).toEqual([]);
  });

  test("a refusal is REJECTION, a recipe is NORMAL, with the reference's probabilities", async () => {
    const [refusal, recipe] = await judge.classify([REFUSAL, PANCAKES]);
    expect(refusal).toMatchObject({ refusal: true, label: "REJECTION" });
    expect(recipe).toMatchObject({ refusal: false, label: "NORMAL" });
    // By hand: logits [0.5, 20/12] (see test/inference/testclassifier.test.ts).
    expect(refusal?.score).toBeCloseTo(1 / (1 + Math.exp(0.5 - 20 / 12)), 6);
    expect(recipe?.score).toBeCloseTo(referenceScore(PANCAKES).refusal, 6);
    expect(recipe?.score).toBeLessThan(0.2);
  });

  test("every score matches the reference; batches of any size give the same scores", async () => {
    const batched = await judge.classify(TEXTS);
    expect(batched).toHaveLength(TEXTS.length);
    for (const [i, text] of TEXTS.entries()) {
      const verdict = batched[i];
      const expected = referenceScore(text).refusal;
      expect(verdict?.score, text).toBeCloseTo(expected, 6);
      expect(verdict?.refusal, text).toBe(expected > 0.5);
      expect(verdict?.label, text).toBe(expected > 0.5 ? "REJECTION" : "NORMAL");
      const [alone] = await judge.classify([text]);
      expect(alone?.score, text).toBeCloseTo(verdict?.score as number, 7);
    }
    const threes = await loadClassifierJudge(`classifier:${dir}`, { ...local(), batchSize: 3 });
    try {
      const scores = (await threes.classify(TEXTS)).map((v) => v.score);
      for (const [i, score] of scores.entries()) {
        expect(score).toBeCloseTo(batched[i]?.score as number, 7);
      }
    } finally {
      await threes.close();
    }
    expect(await judge.classify([])).toEqual([]);
  });

  test("long texts are cut to the model's length, keeping [SEP]", async () => {
    const long = `${"I cannot. ".repeat(10)}${"Here is the recipe with flour and milk. ".repeat(40)}`;
    const [verdict] = await judge.classify([long]);
    expect(verdict?.score).toBeCloseTo(referenceScore(long, 128).refusal, 6);
    expect(referenceScore(long, 128).refusal).not.toBeCloseTo(
      referenceScore(long, 10_000).refusal,
      3,
    );
    // 8 tokens: [CLS] i cannot x5 [SEP], so 5 of 8 decline (6 of 8 had [SEP] been cut instead).
    const short = await loadClassifierJudge(`classifier:${dir}`, { ...local(), maxLength: 8 });
    try {
      const [cut] = await short.classify([`I ${"cannot ".repeat(20)}`]);
      expect(cut?.score).toBeCloseTo(1 / (1 + Math.exp(0.5 - (5 / 8) * 12)), 6);
    } finally {
      await short.close();
    }
  });

  test("judge(): the answer after </think> is judged; all-thinking or empty gets null", async () => {
    const responses = [
      "<think>The user wants pancakes.</think>\n\nI'm sorry, but I can't help with that.",
      "<think>Let me think about how to",
      "",
      "   \n ",
      "<think>plan</think>   ",
      "reasoning from the prompt's <think></think>Sure! Here is a recipe for pancakes: mix flour.",
      PANCAKES,
    ];
    const verdicts = await judge.judge(responses);
    expect(verdicts.map((v) => v?.refusal ?? null)).toEqual([
      true,
      null,
      null,
      null,
      null,
      false,
      false,
    ]);
    const answers = await judge.classify([
      REFUSAL,
      "Sure! Here is a recipe for pancakes: mix flour.",
      PANCAKES,
    ]);
    expect([verdicts[0], verdicts[5], verdicts[6]]).toEqual(answers);
    expect(classifierInput("<think>a</think>  Fine.  ")).toBe("Fine.");
    expect(classifierInput("<THINK>unclosed")).toBeNull();
  });

  test("a closed judge says so", async () => {
    const once = await loadClassifierJudge(`classifier:${dir}`, local());
    await once.close();
    await once.close();
    await expect(once.classify(["x"])).rejects.toThrow(/is closed/);
  });
});

describe("labels", () => {
  test("LABEL_0 / LABEL_1: an error listing the labels, then the named label works", async () => {
    const plain = variant((copy) =>
      editConfig(copy, (config) => {
        config.id2label = { 0: "LABEL_0", 1: "LABEL_1" };
        config.label2id = { LABEL_0: 0, LABEL_1: 1 };
      }),
    );
    const error = await failure(loadClassifierJudge(`classifier:${plain}`, local()));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe(
      `cannot tell which label of ${plain} means refusal: none of its labels (LABEL_0, LABEL_1) matches /reject|refus|declin/i; name it with the refusalLabel option (one of LABEL_0, LABEL_1)`,
    );
    const named = await loadClassifierJudge(`classifier:${plain}`, {
      ...local(),
      refusalLabel: "label_1",
    });
    try {
      expect(named.refusalLabel).toBe("LABEL_1");
      const [verdict] = await named.classify([REFUSAL]);
      const [original] = await judge.classify([REFUSAL]);
      expect(verdict).toEqual({ ...original, label: "LABEL_1" });
    } finally {
      await named.close();
    }
  });

  test("refusal / non_refusal picks refusal; compliance / refusal too; an unknown name is an error", async () => {
    const relabel = (labels: [string, string]) =>
      variant((copy) =>
        editConfig(copy, (config) => {
          config.id2label = { 0: labels[0], 1: labels[1] };
        }),
      );
    for (const labels of [
      ["non_refusal", "refusal"],
      ["compliance", "refusal"],
      ["NOT-REJECTED", "rejected"],
    ] as [string, string][]) {
      const named = await loadClassifierJudge(`classifier:${relabel(labels)}`, local());
      expect(named.refusalLabel).toBe(labels[1]);
      await named.close();
    }
    const both = relabel(["refusal", "declined"]);
    const ambiguous = await failure(loadClassifierJudge(`classifier:${both}`, local()));
    expect(ambiguous.message).toMatch(
      /several of its labels \(refusal, declined\) could mean refusal; name it with the refusalLabel option/,
    );
    const wrong = await failure(
      loadClassifierJudge(`classifier:${dir}`, { ...local(), refusalLabel: "refused" }),
    );
    expect(wrong).toBeInstanceOf(InputError);
    expect(wrong.message).toBe(
      `refusal label "refused" is not a label of ${dir}; its labels are NORMAL, REJECTION: name one of them`,
    );
  });

  test("no id2label, or one that does not fit the model's logits", async () => {
    const none = variant((copy) => editConfig(copy, (config) => delete config.id2label));
    const error = await failure(loadClassifierJudge(`classifier:${none}`, local()));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(
      /config.json has no id2label .*is it a sequence-classification model\?/,
    );
    const three = variant((copy) =>
      editConfig(copy, (config) => {
        config.id2label = { 0: "NORMAL", 1: "REJECTION", 2: "OTHER" };
      }),
    );
    const judge3 = await loadClassifierJudge(`classifier:${three}`, local());
    try {
      const mismatch = await failure(judge3.classify([REFUSAL]));
      expect(mismatch).toBeInstanceOf(InputError);
      expect(mismatch.message).toMatch(
        /gives logits of shape \[1, 2\], but config.json names 3 labels/,
      );
    } finally {
      await judge3.close();
    }
  });
});

describe("files", () => {
  test("model_quantized.onnx when there is no model.onnx, with a note", async () => {
    const quantized = variant((copy) =>
      renameSync(join(copy, "onnx/model.onnx"), join(copy, "onnx/model_quantized.onnx")),
    );
    const q = await loadClassifierJudge(`classifier:${quantized}`, local());
    try {
      expect(q.model.onnxPath).toBe(join(quantized, "onnx/model_quantized.onnx"));
      expect(q.notes).toEqual([
        `${quantized} has no model.onnx: using the quantized onnx/model_quantized.onnx`,
      ]);
      expect(await q.classify([REFUSAL])).toEqual(await judge.classify([REFUSAL]));
    } finally {
      await q.close();
    }
  });

  test("Optimum layout: model.onnx beside config.json", async () => {
    const flat = variant((copy) => {
      renameSync(join(copy, "onnx/model.onnx"), join(copy, "model.onnx"));
      rmSync(join(copy, "onnx"), { recursive: true });
    });
    const f = await loadClassifierJudge(`classifier:${flat}`, local());
    expect(f.model.onnxPath).toBe(join(flat, "model.onnx"));
    await f.close();
  });

  test.each([
    [
      "no such folder",
      () => join(root, "missing"),
      /classifier folder .*missing does not exist: give an existing folder, or a hub id such as protectai\/distilroberta-base-rejection-v1/,
    ],
    [
      "no ONNX file",
      () => variant((copy) => rmSync(join(copy, "onnx"), { recursive: true })),
      /has no ONNX classifier \(looked for onnx\/model.onnx, model.onnx, onnx\/model_quantized.onnx, model_quantized.onnx\): export one with `optimum-cli export onnx --task text-classification`/,
    ],
    [
      "no tokenizer.json",
      () => variant((copy) => rmSync(join(copy, "tokenizer.json"))),
      /has no tokenizer.json: a classifier needs config.json, tokenizer.json, tokenizer_config.json beside its ONNX file or at the top; copy them from the model's repository/,
    ],
    [
      "a broken tokenizer.json",
      () => variant((copy) => writeFileSync(join(copy, "tokenizer.json"), "{not json")),
      /cannot load the tokenizer in .*: fix tokenizer.json and tokenizer_config.json, or copy them again/,
    ],
    [
      "a broken model.onnx",
      () => variant((copy) => writeFileSync(join(copy, "onnx/model.onnx"), "not a model")),
      /cannot load .*onnx\/model.onnx \(.*\): replace it with a sound copy from the model's repository/,
    ],
    [
      "a file, not a folder",
      () => join(dir, "config.json"),
      /config.json is a file, not a classifier folder/,
    ],
  ])("%s: an InputError saying what to do", async (_name, make, message) => {
    const error = await failure(loadClassifierJudge(`classifier:${make()}`, local()));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(message);
  });

  test("a bad batch size or length limit", async () => {
    const batch = await failure(
      loadClassifierJudge(`classifier:${dir}`, { ...local(), batchSize: 0 }),
    );
    expect(batch.message).toBe("batchSize must be a whole number >= 1, got 0");
    const length = await failure(
      loadClassifierJudge(`classifier:${dir}`, { ...local(), maxLength: 1.5 }),
    );
    expect(length).toBeInstanceOf(InputError);
    expect(length.message).toBe("maxLength must be a whole number >= 2, got 1.5");
  });
});

describe("hub ids", () => {
  let hub: FakeHub;
  const files = (folder: string, names: string[]) =>
    Object.fromEntries(names.map((name) => [name, readFileSync(join(folder, name))]));
  const CLASSIFIER_FILES = [
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "onnx/model.onnx",
  ];

  beforeAll(async () => {
    const pytorchConfig = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    pytorchConfig.id2label = { 0: "LABEL_0", 1: "LABEL_1" };
    hub = await FakeHub.start({
      repos: [
        {
          id: "deepconf/tiny-rejection",
          files: { ...files(dir, CLASSIFIER_FILES), "README.md": "# tiny" },
        },
        {
          // protectai's layout: PyTorch files at the top, an Optimum export with its own configs in onnx/.
          id: "deepconf/tiny-rejection-optimum",
          files: {
            "config.json": JSON.stringify(pytorchConfig),
            "tokenizer.json": readFileSync(join(dir, "tokenizer.json")),
            "tokenizer_config.json": readFileSync(join(dir, "tokenizer_config.json")),
            "model.safetensors": "weights the judge never needs",
            ...Object.fromEntries(
              CLASSIFIER_FILES.map((name) => [
                `onnx/${name.replace(/^onnx\//, "")}`,
                readFileSync(join(dir, name)),
              ]),
            ),
          },
        },
        {
          id: "deepconf/no-onnx",
          files: files(dir, ["config.json", "tokenizer.json", "tokenizer_config.json"]),
        },
      ],
    });
  });

  afterAll(async () => {
    await hub?.close();
  });

  const fromHub = (cacheDir: string, env: Record<string, string> = {}): ClassifierJudgeOptions => ({
    cacheDir,
    threads: 1,
    hub: { endpoint: hub.url, token: null, env, retry: { baseDelayMs: 1 } },
  });

  test("resolves through the hub client into the cache, then loads offline from it", async () => {
    const cacheDir = testTempDir("deepconf-cache-");
    hub.requests.length = 0;
    const online = await loadClassifierJudge(
      "classifier:deepconf/tiny-rejection",
      fromHub(cacheDir),
    );
    const sha = hub.shaOf("deepconf/tiny-rejection");
    const snapshot = join(cacheDir, "hub", "models--deepconf--tiny-rejection", "snapshots", sha);
    try {
      expect(online.model).toMatchObject({
        source: "hub",
        repo: "deepconf/tiny-rejection",
        revision: "main",
        sha,
        dir: snapshot,
        onnxPath: join(snapshot, "onnx/model.onnx"),
        fileHash: judge.model.fileHash,
      });
      expect(hub.count({ kind: "resolve", file: "README.md" })).toBe(0);
      expect(await online.classify(TEXTS)).toEqual(await judge.classify(TEXTS));
    } finally {
      await online.close();
    }

    const before = hub.requests.length;
    const offline = await loadClassifierJudge(
      "classifier:deepconf/tiny-rejection",
      fromHub(cacheDir, { HF_HUB_OFFLINE: "1" }),
    );
    expect(hub.requests.length).toBe(before);
    expect(offline.model.sha).toBe(sha);
    await offline.close();
  });

  test("an Optimum export in onnx/ uses the configs beside it and downloads nothing else", async () => {
    hub.requests.length = 0;
    const optimum = await loadClassifierJudge(
      `classifier:deepconf/tiny-rejection-optimum@${hub.shaOf("deepconf/tiny-rejection-optimum")}`,
      fromHub(testTempDir("deepconf-cache-")),
    );
    try {
      expect(optimum.labels).toEqual(["NORMAL", "REJECTION"]);
      expect(optimum.model.dir).toMatch(/\/onnx$/);
      const fetched = hub.requests
        .filter((r) => r.kind === "resolve")
        .map((r) => r.file)
        .sort();
      expect(fetched).toEqual([
        "onnx/config.json",
        "onnx/model.onnx",
        "onnx/tokenizer.json",
        "onnx/tokenizer_config.json",
      ]);
    } finally {
      await optimum.close();
    }
  });

  test("a repository without an ONNX classifier, and one that does not exist", async () => {
    const noOnnx = await failure(
      loadClassifierJudge("classifier:deepconf/no-onnx", fromHub(testTempDir("deepconf-cache-"))),
    );
    expect(noOnnx).toBeInstanceOf(InputError);
    expect(noOnnx.message).toMatch(
      /^classifier deepconf\/no-onnx \(commit [0-9a-f]{12}\) has no ONNX classifier/,
    );
    const missing = await failure(
      loadClassifierJudge(
        "classifier:deepconf/nothing-here",
        fromHub(testTempDir("deepconf-cache-")),
      ),
    );
    expect(missing).toBeInstanceOf(RepoNotFoundError);
    expect(missing.message).toMatch(/No local folder "deepconf\/nothing-here" exists either/);
  });
});
