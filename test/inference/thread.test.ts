import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ConfidenceMonitor } from "../../src/engine/monitor.js";
import { type LoadedModel, loadModel } from "../../src/inference/model.js";
import { DecoderThread } from "../../src/inference/thread.js";
import { chatPromptIds } from "../../src/inference/tokenizer.js";
import { testTempDir, tinyModelDir } from "../support/tiny-model.js";

let dir: string;
let thread: DecoderThread;
let local: LoadedModel;
const cacheDir = testTempDir("cache-");
const sampling = { greedy: false, temperature: 0.8, topP: 0.95, topK: 20 };

beforeAll(async () => {
  dir = tinyModelDir();
  const options = { dtype: "fp32" as const, device: "cpu" as const, topk: 20, cacheDir };
  local = await loadModel(dir, options);
  ({ thread } = await DecoderThread.start(dir, options));
}, 60_000);

afterAll(async () => {
  await thread?.close();
});

describe("DecoderThread", () => {
  test("the main thread keeps running while the worker decodes", async () => {
    const inputIds = chatPromptIds(local.tokenizer, {
      prompt: "Explain photosynthesis",
      thinking: false,
    });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const started = performance.now();
    const result = await thread.generate(
      [{ inputIds, traces: 8, seed: 1, stop: { window: 4, tail: 4, topk: 20, threshold: null } }],
      { sampling, maxNewTokens: 48 },
    );
    clearInterval(timer);
    const elapsed = performance.now() - started;
    expect(result.traces).toHaveLength(8);
    // A blocked loop would tick a handful of times at most; a free one about every 5 ms.
    expect(ticks).toBeGreaterThan(elapsed / 5 / 4);
  });

  test("same traces and confidences as the in-process decoder, stop rule applied", async () => {
    const inputIds = chatPromptIds(local.tokenizer, { prompt: "Hello there", thinking: false });
    const stop = { window: 3, tail: 3, topk: 20, threshold: 6.25 };
    const remote = await thread.generate([{ inputIds, traces: 4, seed: 9, stop }], {
      sampling,
      maxNewTokens: 12,
    });
    const monitors = Array.from({ length: 4 }, () => new ConfidenceMonitor(stop));
    const here = await local.decoder.generate([{ inputIds, traces: 4, seed: 9 }], {
      sampling,
      maxNewTokens: 12,
      eosTokenIds: local.eosTokenIds,
      padTokenId: local.padTokenId,
      onStep: (step) => monitors[step.trace]?.pushLogprobs(step.logprobs),
    });
    expect(remote.traces.map((t) => t.tokenIds)).toEqual(here.traces.map((t) => t.tokenIds));
    expect(remote.traces.map((t) => t.finishReason)).toEqual(
      here.traces.map((t) => t.finishReason),
    );
    expect(remote.traces.map((t) => t.stats)).toEqual(monitors.map((m) => m.stats()));
    expect(typeof remote.traces[0]?.text).toBe("string");
  });

  test("a load failure arrives as a clear error", async () => {
    await expect(
      DecoderThread.start("/nonexistent/folder", {
        dtype: "fp32",
        device: "cpu",
        topk: 20,
        cacheDir,
      }),
    ).rejects.toThrow(/does not exist/);
  });
});
