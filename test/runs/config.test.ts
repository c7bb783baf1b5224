/** deepconf run --config and parameter flags end to end: errors, merging, sampling defaults. */
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { QWEN3_SAMPLING } from "../../src/inference/sampling.js";
import { deepconf } from "../support/cli.js";
import { testTempDir, tinyModelDir } from "../support/tiny-model.js";

const small = ["--max-new-tokens", "4", "--budget", "3", "--warmup", "2", "--window", "3"];

/** A run of `model` into `out` (a folder that does not exist yet). */
function runArgs(out: string, model: string, ...extra: string[]) {
  return [
    "run",
    "--model",
    model,
    "--benchmark",
    "sample",
    "--limit",
    "1",
    "--out",
    out,
    "--cache-dir",
    join(out, "cache"),
    ...extra,
  ];
}

function freshOut(): string {
  return join(testTempDir("config-"), "out");
}

function manifestOf(out: string) {
  const dirs = readdirSync(out).filter((name) => name !== "cache");
  expect(dirs).toHaveLength(1);
  return JSON.parse(readFileSync(join(out, dirs[0] as string, "manifest.json"), "utf8"));
}

function configFile(text: string): string {
  const path = join(testTempDir("config-"), "run.yaml");
  writeFileSync(path, text);
  return path;
}

/** A copy of the tiny model whose generation_config.json holds `generation` (plus its ids). */
function modelWithGeneration(generation: Record<string, unknown>): string {
  const dir = join(testTempDir("model-"), "qwen3-tiny");
  cpSync(tinyModelDir(), dir, { recursive: true });
  const path = join(dir, "generation_config.json");
  const current = JSON.parse(readFileSync(path, "utf8"));
  const ids = {
    bos_token_id: current.bos_token_id,
    eos_token_id: current.eos_token_id,
    pad_token_id: current.pad_token_id,
  };
  writeFileSync(path, JSON.stringify({ ...ids, ...generation }));
  return dir;
}

describe("run parameters from --config and flags", () => {
  test.each([
    [
      "a misspelt key",
      "params:\n  sampling:\n    temprature: 0.6\n",
      /run\.yaml: params\.sampling\.temprature: unknown key: did you mean temperature\?/,
    ],
    [
      "a sampling value that used to reach the graph as NaN",
      "params:\n  sampling:\n    topK: twenty\n",
      /run\.yaml: params\.sampling\.topK: expected a number, got "twenty"/,
    ],
    [
      "a snake_case key",
      "params:\n  min_voters: 2\n",
      /params\.min_voters: unknown key: did you mean minVoters\?/,
    ],
    [
      "an explicit warmup above the budget",
      "params:\n  warmup: 5\n  budget: 3\n",
      /run\.yaml: params\.warmup: 5 warmup traces exceed the budget of 3/,
    ],
    [
      "an invalid refusal pattern",
      'refusal:\n  extraRefusal: ["("]\n',
      /run\.yaml: refusal\.extraRefusal\[0\]: invalid regular expression/,
    ],
  ])("%s: exit 2 naming the file and path, nothing written", async (_, text, message) => {
    const out = freshOut();
    const run = await deepconf(...runArgs(out, tinyModelDir(), "--config", configFile(text)));
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.stderr).toMatch(message);
    expect(run.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });

  test.each([
    [["--warmup", "0"], /--warmup: params\.warmup: must be >= 1, got 0/],
    [["--tau", "1.5"], /--tau: params\.tau: must be <= 1, got 1\.5/],
    [["--eta", "0"], /--eta: params\.eta: must be > 0, got 0/],
    [["--min-voters", "two"], /--min-voters: params\.minVoters: expected a number, got "two"/],
    [
      ["--abstain-as", "skip"],
      /--abstain-as: params\.abstainAs: expected one of exclude, refusal, compliance/,
    ],
    [["--warmup", "4"], /--warmup: params\.warmup: 4 warmup traces exceed the budget of 3/],
  ])("flags %j: exit 2 with the same kind of message, nothing written", async (flags, message) => {
    const out = freshOut();
    const run = await deepconf(...runArgs(out, tinyModelDir(), ...small), ...flags);
    expect(run.stderr).toMatch(message);
    expect(run.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });

  test("the built-in model: a config error writes nothing, not even the model", async () => {
    const out = freshOut();
    const config = configFile("params:\n  budget: 0\n");
    const run = await deepconf(
      "run",
      "--out",
      out,
      "--cache-dir",
      join(out, "cache"),
      "--config",
      config,
    );
    expect(run.stderr).toMatch(/run\.yaml: params\.budget: must be >= 1, got 0/);
    expect(run.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });

  test("sampling temperature alone keeps the other defaults; the manifest records the sources", async () => {
    // The repro of `RangeError: The number NaN cannot be converted to a BigInt`.
    const out = freshOut();
    const model = modelWithGeneration({ do_sample: true, temperature: 0.9, top_p: 0.7, top_k: 12 });
    const config = configFile("params:\n  sampling:\n    temperature: 0.6\n  minVoters: 3\n");
    const run = await deepconf(...runArgs(out, model, ...small, "--config", config, "--eta", "90"));
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code).toBe(0);
    const manifest = manifestOf(out);
    expect(manifest.config.params).toMatchObject({
      sampling: { greedy: false, temperature: 0.6, topP: 0.7, topK: 12 },
      minVoters: 3,
      eta: 90,
      budget: 3,
      warmup: 2,
      window: 3,
      tail: 3,
      topk: 20,
      tau: 0.95,
    });
    expect(manifest.sampling_source).toEqual({
      greedy: "generation_config.json",
      temperature: "config file",
      topP: "generation_config.json",
      topK: "generation_config.json",
    });
  });

  test("without sampling in generation_config.json: Qwen3's, and --thinking switches to thinking's", async () => {
    const model = modelWithGeneration({});
    const plain = freshOut();
    expect((await deepconf(...runArgs(plain, model, ...small))).code).toBe(0);
    const plainManifest = manifestOf(plain);
    expect(plainManifest.config.params.sampling).toEqual(QWEN3_SAMPLING.plain);
    expect(plainManifest.sampling_source.temperature).toBe("qwen3-default");

    const thinking = freshOut();
    expect((await deepconf(...runArgs(thinking, model, ...small, "--thinking"))).code).toBe(0);
    const thinkingManifest = manifestOf(thinking);
    expect(thinkingManifest.config.params.thinking).toBe(true);
    expect(thinkingManifest.config.params.sampling).toEqual(QWEN3_SAMPLING.thinking);
    expect(thinkingManifest.sampling_source).toEqual({
      greedy: "qwen3-thinking-default",
      temperature: "qwen3-thinking-default",
      topP: "qwen3-thinking-default",
      topK: "qwen3-thinking-default",
    });
  });
});
