import { beforeAll, describe, expect, test } from "vitest";
import { deepconf } from "../support/cli.js";
import { testTempDir, tinyModelDir } from "../support/tiny-model.js";

let model: string;
const cache = ["--cache-dir", testTempDir("cache-")];

beforeAll(async () => {
  model = tinyModelDir();
}, 60_000);

describe("deepconf generate", () => {
  test("--json prints traces with token ids, text, finish reason and confidence", async () => {
    const run = await deepconf(
      "generate",
      "--model",
      model,
      "--prompt",
      "Say hi",
      "--traces",
      "3",
      "--max-new-tokens",
      "5",
      "--seed",
      "4",
      "--window",
      "2",
      "--json",
      ...cache,
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(Object.keys(report)).toEqual(["model", "device", "prompt_tokens", "traces", "timing"]);
    expect(report.device).toBe("cpu");
    expect(report.prompt_tokens).toBeGreaterThan(5);
    expect(report.traces).toHaveLength(3);
    for (const trace of report.traces) {
      expect(trace.token_ids).toHaveLength(5);
      expect(typeof trace.text).toBe("string");
      expect(trace.finish_reason).toBe("length");
      expect(Object.keys(trace.confidence)).toEqual(["mean", "lowest", "bottom10", "tail"]);
      // C_i >= ln k for any distribution (Jensen): a sign error would make it negative.
      expect(trace.confidence.mean).toBeGreaterThanOrEqual(Math.log(20) - 1e-9);
      expect(trace.confidence.lowest).toBeGreaterThanOrEqual(Math.log(20) - 1e-9);
    }
    expect(Object.keys(report.timing)).toEqual(["prefill_ms", "decode_ms", "tokens_per_s"]);
    expect(report.timing.tokens_per_s).toBeGreaterThan(0);
  });

  test("the same seed gives the same traces; --greedy gives identical traces", async () => {
    const args = [
      "generate",
      "--model",
      model,
      "--prompt",
      "Tell me",
      "--traces",
      "2",
      "--max-new-tokens",
      "4",
      "--json",
      ...cache,
    ];
    const a = JSON.parse((await deepconf(...args, "--seed", "1")).stdout);
    const b = JSON.parse((await deepconf(...args, "--seed", "1")).stdout);
    expect(b.traces.map((t: { token_ids: number[] }) => t.token_ids)).toEqual(
      a.traces.map((t: { token_ids: number[] }) => t.token_ids),
    );
    const greedy = JSON.parse((await deepconf(...args, "--greedy")).stdout);
    expect(greedy.traces[0].token_ids).toEqual(greedy.traces[1].token_ids);
  });

  test.each([
    [["--model", "/nonexistent/model", "--prompt", "x"], /does not exist/],
    [
      ["--prompt", "x", "--device", "cuda"],
      /CUDA execution provider is not installed.*npm run install:cuda/,
    ],
    [["--prompt", "x", "--greedy", "--temperature", "0.5"], /--greedy takes no/],
    [["--prompt", "x", "--dtype", "q4"], /q4/],
  ])("bad input %j: exit 2 with a clear message", async (args, message) => {
    const withModel = args.includes("--model") ? args : ["--model", model, ...args];
    const run = await deepconf("generate", ...withModel, ...cache);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(message);
  });
});
