/** The run parameter schema: config files, flags, merging, impossible combinations, sampling. */
import { describe, expect, test } from "vitest";
import { parseConfigText } from "../../src/config/file.js";
import {
  ConfigError,
  type ParamOverrides,
  resolveParams,
  suggestKey,
} from "../../src/config/params.js";
import { paramsFromFlags, userRunConfig } from "../../src/config/run.js";
import { InputError } from "../../src/errors.js";
import { QWEN3_SAMPLING } from "../../src/inference/sampling.js";
import { METHOD_PRESETS } from "../../src/safety/methods.js";
import { tempFile } from "../support/cli.js";

function fileError(text: string): string {
  try {
    parseConfigText(text, "config.yaml");
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError");
}

function resolveError(overrides: ParamOverrides, method = "deepconf-low"): string {
  try {
    resolveParams({ method, overrides, origins: originsOf(overrides) });
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(overrides)} to be rejected`);
}

/** Every value named as coming from run.yaml, as a config file's values are. */
function originsOf(overrides: ParamOverrides) {
  const origins: Record<string, { source: "config file"; where: string }> = {};
  for (const [key, value] of Object.entries(overrides)) {
    if (key === "sampling")
      for (const field of Object.keys(value as object))
        origins[`sampling.${field}`] = { source: "config file", where: "run.yaml" };
    else origins[key] = { source: "config file", where: "run.yaml" };
  }
  return origins;
}

describe("config files", () => {
  test("a misspelt key is rejected with the file and the path, and a suggestion", () => {
    expect(fileError("params:\n  sampling:\n    temprature: 0.6\n")).toBe(
      "config.yaml: params.sampling.temprature: unknown key: did you mean temperature?",
    );
    expect(fileError("parms: {}\n")).toMatch(
      /^config\.yaml: parms: unknown key: did you mean params\?/,
    );
    expect(fileError("params: {frobnicate: 1}\n")).toMatch(
      /^config\.yaml: params\.frobnicate: unknown key \(known: window, tail, /,
    );
  });

  test("a snake_case spelling of a known key gets the camelCase name", () => {
    expect(fileError("params:\n  min_voters: 3\n")).toBe(
      "config.yaml: params.min_voters: unknown key: did you mean minVoters?",
    );
    expect(fileError("params:\n  sampling: {top_p: 0.9}\n")).toMatch(
      /params\.sampling\.top_p: unknown key: did you mean topP\?/,
    );
    expect(suggestKey("max_new_tokens", ["maxNewTokens", "window"])).toBe("maxNewTokens");
    expect(suggestKey("zzz", ["maxNewTokens", "window"])).toBeNull();
  });

  test("wrong types name the path and what was given; every problem is listed", () => {
    const message = fileError(
      'params:\n  budget: "16"\n  sampling: {topK: null}\n  thinking: "yes"\n',
    );
    expect(message.split("\n")).toEqual([
      'config.yaml: params.budget: expected a number, got "16"',
      "config.yaml: params.sampling.topK: expected a number, got null",
      'config.yaml: params.thinking: expected a boolean, got "yes"',
    ]);
    expect(fileError("- 1\n")).toBe("config.yaml: expected a mapping, got [1]");
    expect(fileError("params: [1]\n")).toBe("config.yaml: params: expected a mapping, got [1]");
  });

  test("refusal patterns are checked strictly too", () => {
    expect(fileError("refusal:\n  extraRefusals: []\n")).toMatch(
      /refusal\.extraRefusals: unknown key: did you mean extraRefusal\?/,
    );
    expect(fileError('refusal:\n  extraRefusal: ["("]\n')).toMatch(
      /^config\.yaml: refusal\.extraRefusal\[0\]: invalid regular expression "\("/,
    );
    expect(fileError("refusal:\n  disable: [no-such-pattern]\n")).toMatch(
      /^config\.yaml: refusal\.disable\[0\]: unknown pattern id "no-such-pattern"/,
    );
    const ok = parseConfigText('refusal:\n  extraRefusal: ["^nope"]\n', "config.yaml");
    expect(ok.refusal).toEqual({ extraRefusal: ["^nope"] });
    expect(ok.params).toEqual({});
  });

  test("an empty file is an empty config; YAML syntax errors name the file", () => {
    expect(parseConfigText("", "c.yaml")).toMatchObject({ params: {}, refusal: null });
    expect(() => parseConfigText("params: {a: 1", "c.yaml")).toThrow(/^c\.yaml: not valid YAML/);
  });
});

describe("resolveParams", () => {
  test("sampling is merged field by field: temperature alone keeps the default top-p and top-k", () => {
    const { params, samplingSource } = resolveParams({
      method: "deepconf-low",
      overrides: { sampling: { temperature: 0.6 } },
      origins: { "sampling.temperature": { source: "config file", where: "run.yaml" } },
    });
    expect(params.sampling).toEqual({
      greedy: false,
      temperature: 0.6,
      topP: QWEN3_SAMPLING.plain.topP,
      topK: QWEN3_SAMPLING.plain.topK,
    });
    expect(samplingSource).toEqual({
      greedy: "qwen3-default",
      temperature: "config file",
      topP: "qwen3-default",
      topK: "qwen3-default",
    });
    expect({ ...params, sampling: null }).toEqual({
      ...METHOD_PRESETS["deepconf-low"],
      sampling: null,
    });
  });

  test.each<[string, ParamOverrides, RegExp]>([
    [
      "warmup > budget",
      { warmup: 9, budget: 8 },
      /run\.yaml: params\.warmup: 9 warmup traces exceed the budget of 8/,
    ],
    ["window < 1", { window: 0 }, /run\.yaml: params\.window: must be >= 1, got 0/],
    ["tail < 1", { tail: 0 }, /params\.tail: must be >= 1/],
    ["eta 0", { eta: 0 }, /params\.eta: must be > 0, got 0/],
    ["eta > 100", { eta: 100.5 }, /params\.eta: must be <= 100, got 100\.5/],
    ["tau 0", { tau: 0 }, /params\.tau: must be > 0/],
    ["tau < 0", { tau: -0.5 }, /params\.tau: must be > 0/],
    ["minVoters 0", { minVoters: 0 }, /params\.minVoters: must be >= 1/],
    ["bucketPercentile < 0", { bucketPercentile: -1 }, /params\.bucketPercentile: must be >= 0/],
    [
      "bucketPercentile > 100",
      { bucketPercentile: 101 },
      /params\.bucketPercentile: must be <= 100/,
    ],
    [
      "an offline filter the vote lacks",
      { offlineFilter: "mean" as never },
      /params\.offlineFilter: expected one of tail, bottom10, lowest, got "mean"/,
    ],
    [
      "temperature < 0",
      { sampling: { temperature: -0.1 } },
      /params\.sampling\.temperature: must be >= 0/,
    ],
    ["topP 0", { sampling: { topP: 0 } }, /params\.sampling\.topP: must be > 0/],
    ["topP > 1", { sampling: { topP: 1.01 } }, /params\.sampling\.topP: must be <= 1/],
    ["a fractional budget", { budget: 2.5 }, /params\.budget: expected a whole number, got 2\.5/],
    [
      "a fractional topK",
      { sampling: { topK: 1.5 } },
      /params\.sampling\.topK: expected a whole number/,
    ],
    ["a fractional maxNewTokens", { maxNewTokens: 10.5 }, /params\.maxNewTokens: expected a whole/],
    ["NaN", { window: Number.NaN }, /params\.window: expected a number, got NaN/],
    [
      "an unknown abstainAs",
      { abstainAs: "skip" as never },
      /params\.abstainAs: expected one of exclude, refusal, compliance/,
    ],
  ])("rejects %s", (_, overrides, message) => {
    expect(resolveError(overrides)).toMatch(message);
  });

  test("a preset warmup above a smaller budget is lowered; an explicit one is an error", () => {
    const lowered = resolveParams({ method: "deepconf-low", overrides: { budget: 4 } });
    expect(lowered.params).toMatchObject({ budget: 4, warmup: 4 });
    expect(() =>
      resolveParams({
        method: "deepconf-low",
        overrides: { budget: 4, warmup: 6 },
        origins: {
          budget: { source: "flag", where: "--budget" },
          warmup: { source: "config file", where: "run.yaml" },
        },
      }),
    ).toThrow("run.yaml: params.warmup: 6 warmup traces exceed the budget of 4 traces");
    // base settings (the built-in model's) count as defaults, not as the user's.
    const base = resolveParams({
      method: "deepconf-low",
      overrides: { budget: 2 },
      base: { budget: 8, warmup: 4 },
    });
    expect(base.params).toMatchObject({ budget: 2, warmup: 2 });
  });

  test("an unknown method is an input error", () => {
    expect(() => resolveParams({ method: "greedy", overrides: {} })).toThrow(/unknown method/);
  });

  test("sampling defaults come from the model's generation config, user values win", () => {
    const generation = {
      file: "generation_config.json" as const,
      values: { do_sample: true, temperature: 0.9, top_p: 0.7, top_k: 12, eos_token_id: 2 },
    };
    const resolved = resolveParams({
      method: "baseline",
      overrides: { sampling: { topP: 0.5 } },
      origins: { "sampling.topP": { source: "config file", where: "run.yaml" } },
      generation,
    });
    expect(resolved.params.sampling).toEqual({
      greedy: false,
      temperature: 0.9,
      topP: 0.5,
      topK: 12,
    });
    expect(resolved.samplingSource).toEqual({
      greedy: "generation_config.json",
      temperature: "generation_config.json",
      topP: "config file",
      topK: "generation_config.json",
    });
    // Fields the generation config lacks fall back to Qwen3's; --thinking picks the thinking ones.
    const partial = resolveParams({
      method: "baseline",
      overrides: { thinking: true },
      generation: { file: "config.json", values: { temperature: 0.3 } },
    });
    expect(partial.params.sampling).toEqual({ ...QWEN3_SAMPLING.thinking, temperature: 0.3 });
    expect(partial.samplingSource).toMatchObject({
      temperature: "config.json",
      topP: "qwen3-thinking-default",
    });
  });

  test("do_sample false is greedy unless the user asks for sampling; temperature 0 is greedy", () => {
    const generation = {
      file: "generation_config.json" as const,
      values: { do_sample: false, temperature: 0.6 },
    };
    const greedy = resolveParams({ method: "baseline", overrides: {}, generation });
    expect(greedy.params.sampling.greedy).toBe(true);
    expect(greedy.samplingSource.greedy).toBe("generation_config.json");
    const sampled = resolveParams({
      method: "baseline",
      overrides: { sampling: { temperature: 0.8 } },
      origins: { "sampling.temperature": { source: "config file", where: "run.yaml" } },
      generation,
    });
    expect(sampled.params.sampling).toMatchObject({ greedy: false, temperature: 0.8 });
    expect(sampled.samplingSource.greedy).toBe("config file");
    const zero = resolveParams({ method: "baseline", overrides: { sampling: { temperature: 0 } } });
    expect(zero.params.sampling.greedy).toBe(true);
  });

  test("unusable generation config values are ignored with a note", () => {
    const resolved = resolveParams({
      method: "baseline",
      overrides: {},
      generation: { file: "generation_config.json", values: { top_k: 0, top_p: "x" } },
    });
    expect(resolved.params.sampling).toEqual(QWEN3_SAMPLING.plain);
    expect(resolved.notes).toEqual([
      'generation_config.json: top_p "x" is not usable here; ignored',
      "generation_config.json: top_k 0 is not usable here; ignored",
    ]);
  });
});

describe("flags", () => {
  test("flag errors read like file errors", () => {
    expect(() => paramsFromFlags({ warmup: "0" })).toThrow(
      "--warmup: params.warmup: must be >= 1, got 0",
    );
    expect(() => paramsFromFlags({ tau: "x", minVoters: "1.5" })).toThrow(
      '--tau: params.tau: expected a number, got "x"\n--min-voters: params.minVoters: expected a whole number, got 1.5',
    );
    expect(() => paramsFromFlags({ abstainAs: "skip" })).toThrow(
      '--abstain-as: params.abstainAs: expected one of exclude, refusal, compliance, got "skip"',
    );
    expect(paramsFromFlags({ eta: "90", thinking: true, abstainAs: "refusal" }).params).toEqual({
      eta: 90,
      thinking: true,
      abstainAs: "refusal",
    });
  });

  test("flags win over the file; --window sets the tail unless the file gives one", () => {
    const file = tempFile(
      "run.yaml",
      "params:\n  budget: 12\n  warmup: 6\n  sampling: {topK: 10}\n",
    );
    const user = userRunConfig(file, { budget: "10", window: "5" });
    expect(user.overrides).toEqual({
      budget: 10,
      warmup: 6,
      window: 5,
      tail: 5,
      sampling: { topK: 10 },
    });
    expect(user.origins).toMatchObject({
      budget: { source: "flag", where: "--budget" },
      warmup: { source: "config file", where: file },
      tail: { source: "flag", where: "--window" },
      "sampling.topK": { source: "config file", where: file },
    });
    const withTail = tempFile("run.yaml", "params:\n  tail: 7\n");
    expect(userRunConfig(withTail, { window: "5" }).overrides).toEqual({ window: 5, tail: 7 });
    expect(() => userRunConfig("/nonexistent/run.yaml", {})).toThrow(/cannot read the run config/);
  });
});
