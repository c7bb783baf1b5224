/**
 * The decoder on the real onnxruntime with the tiny Qwen3 test model: greedy output equals
 * transformers.js generate(), top-k log-probs equal log_softmax of the unaugmented graph's
 * logits, sampling is seeded per trace, and stopping / compaction / left padding change nothing
 * for the other traces.
 */
import { join } from "node:path";
import { AutoModelForCausalLM, env, Tensor } from "@huggingface/transformers";
import * as ort from "onnxruntime-node";
import { beforeAll, describe, expect, test } from "vitest";
import type { Decoder, GenerationOptions, TraceStep } from "../../src/inference/decoder.js";
import { type LoadedModel, loadModel } from "../../src/inference/model.js";
import { chatPromptIds } from "../../src/inference/tokenizer.js";
import { wholeSequenceFeeds } from "../support/feeds.js";
import { testTempDir, tinyModelDir } from "../support/tiny-model.js";

let dir: string;
let model: LoadedModel;
let decoder: Decoder;
let promptA: number[];
let promptB: number[];
const sampled = { greedy: false, temperature: 0.8, topP: 0.95, topK: 20 };
const greedy = { greedy: true, temperature: 1, topP: 1, topK: 20 };

function options(overrides: Partial<GenerationOptions> = {}): GenerationOptions {
  return {
    sampling: greedy,
    maxNewTokens: 10,
    eosTokenIds: model.eosTokenIds,
    padTokenId: model.padTokenId,
    ...overrides,
  };
}

beforeAll(async () => {
  dir = tinyModelDir();
  model = await loadModel(dir, {
    dtype: "fp32",
    device: "cpu",
    topk: 20,
    cacheDir: testTempDir("cache-"),
  });
  decoder = model.decoder;
  promptA = chatPromptIds(model.tokenizer, {
    prompt: "How do I bake sourdough bread at home?",
    thinking: false,
  });
  promptB = chatPromptIds(model.tokenizer, { prompt: "Hi", thinking: true });
}, 60_000);

async function transformersGreedy(prompts: number[][], maxNewTokens: number): Promise<number[][]> {
  env.allowRemoteModels = false;
  env.localModelPath = join(dir, "..");
  const reference = await AutoModelForCausalLM.from_pretrained("qwen3-tiny", {
    dtype: "fp32",
    device: "cpu",
    local_files_only: true,
  });
  const results: number[][] = [];
  for (const prompt of prompts) {
    const ids = new Tensor("int64", BigInt64Array.from(prompt.map(BigInt)), [1, prompt.length]);
    const mask = new Tensor("int64", new BigInt64Array(prompt.length).fill(1n), [1, prompt.length]);
    const out = (await reference.generate({
      input_ids: ids,
      attention_mask: mask,
      max_new_tokens: maxNewTokens,
      do_sample: false,
    })) as Tensor;
    results.push(Array.from(out.data as BigInt64Array, Number).slice(prompt.length));
  }
  return results;
}

describe("Decoder on the tiny Qwen3 model", () => {
  test("the prompts differ in length (so the batch is left-padded)", () => {
    expect(promptA.length).toBeGreaterThan(promptB.length + 5);
  });

  test("greedy: token for token what transformers.js generate() gives, alone and in a batch", async () => {
    // 150 tokens: the cache's capacity grows twice (by 64 free slots at a time) on the way.
    const expected = await transformersGreedy([promptA, promptB], 150);
    expect(expected.map((ids) => ids.length)).toEqual([150, 150]);
    const alone = await decoder.generate(
      [{ inputIds: promptA, traces: 1, seed: 0 }],
      options({ maxNewTokens: 150 }),
    );
    expect(alone.traces[0]?.tokenIds).toEqual(expected[0]);
    const batch = await decoder.generate(
      [
        { inputIds: promptA, traces: 3, seed: 0 },
        { inputIds: promptB, traces: 2, seed: 0 },
      ],
      options({ maxNewTokens: 150 }),
    );
    expect(batch.traces.map((t) => [t.request, t.trace])).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [1, 0],
      [1, 1],
    ]);
    for (const trace of batch.traces) expect(trace.tokenIds).toEqual(expected[trace.request]);
  });

  test("per-step top-k log-probs equal log_softmax of the full logits (1e-4)", async () => {
    const steps: TraceStep[] = [];
    const result = await decoder.generate(
      [{ inputIds: promptA, traces: 2, seed: 3 }],
      options({
        sampling: sampled,
        maxNewTokens: 6,
        onStep: (step) => {
          steps.push({ ...step, logprobs: step.logprobs.slice() });
          return undefined;
        },
      }),
    );
    const full = await ort.InferenceSession.create(join(dir, "onnx", "model.onnx"));
    for (const trace of result.traces) {
      const sequence = [...promptA, ...trace.tokenIds];
      const feeds = wholeSequenceFeeds(sequence, decoder.shape);
      const logits = (await full.run(feeds)).logits as ort.Tensor;
      const vocab = logits.dims[2] as number;
      const data = logits.data as Float32Array;
      trace.tokenIds.forEach((tokenId, position) => {
        const row = data.subarray(
          (promptA.length - 1 + position) * vocab,
          (promptA.length + position) * vocab,
        );
        let max = Number.NEGATIVE_INFINITY;
        for (const x of row) max = Math.max(max, x);
        let sum = 0;
        for (const x of row) sum += Math.exp(x - max);
        const logSoftmax = Array.from(row, (x) => x - max - Math.log(sum));
        const best = [...logSoftmax].sort((a, b) => b - a).slice(0, 20);
        const step = steps.find(
          (s) => s.trace === trace.trace && s.position === position,
        ) as TraceStep;
        expect(step.tokenId).toBe(tokenId);
        step.logprobs.forEach((value, j) => {
          expect(Math.abs(value - (best[j] as number))).toBeLessThan(1e-4);
        });
        // The sampled token is one of the candidates, with its own log-prob.
        const own = logSoftmax[tokenId] as number;
        expect(step.logprobs.some((value) => Math.abs(value - own) < 1e-4)).toBe(true);
      });
    }
  });

  test("same seed, same tokens; another trace index or seed, other tokens", async () => {
    const run = (seed: number, traces: number) =>
      decoder.generate(
        [{ inputIds: promptA, traces, seed }],
        options({ sampling: sampled, maxNewTokens: 8 }),
      );
    const first = await run(7, 3);
    const again = await run(7, 3);
    expect(again.traces.map((t) => t.tokenIds)).toEqual(first.traces.map((t) => t.tokenIds));
    expect(first.traces[0]?.tokenIds).not.toEqual(first.traces[1]?.tokenIds);
    const other = await run(8, 1);
    expect(other.traces[0]?.tokenIds).not.toEqual(first.traces[0]?.tokenIds);
  });

  test("calls in flight together do not share KV buffers: same tokens as one after the other", async () => {
    const calls = [
      { inputIds: promptA, traces: 3, seed: 21 },
      { inputIds: promptB, traces: 2, seed: 22 },
    ].map(
      (request) => () =>
        decoder.generate([request], options({ sampling: sampled, maxNewTokens: 70 })),
    );
    const sequential = [];
    for (const call of calls) sequential.push(await call());
    const together = await Promise.all(calls.map((call) => call()));
    expect(together.map((r) => r.traces.map((t) => t.tokenIds))).toEqual(
      sequential.map((r) => r.traces.map((t) => t.tokenIds)),
    );
  });

  test("a trace's tokens do not depend on its batch: other prompts, padding, stopped rows", async () => {
    const long = { sampling: sampled, maxNewTokens: 100 };
    const alone = await decoder.generate(
      [{ inputIds: promptB, traces: 2, seed: 11 }],
      options(long),
    );
    const stoppedAt = [2, 80]; // before and after the cache's capacity has grown
    const crowded = await decoder.generate(
      [
        { inputIds: promptA, traces: 3, seed: 5 },
        { inputIds: promptB, traces: 2, seed: 11 },
      ],
      options({
        ...long,
        // Stop two of the longer prompt's traces early: their rows leave the batch mid-way.
        onStep: (step) => step.request === 0 && step.position === stoppedAt[step.trace],
      }),
    );
    const fromB = crowded.traces.filter((t) => t.request === 1);
    expect(fromB.map((t) => t.tokenIds)).toEqual(alone.traces.map((t) => t.tokenIds));
    const stopped = crowded.traces.filter((t) => t.finishReason === "stopped");
    expect(stopped.map((t) => [t.request, t.trace, t.tokenIds.length])).toEqual([
      [0, 0, 3],
      [0, 1, 81],
    ]);
    expect(crowded.traces.find((t) => t.request === 0 && t.trace === 2)?.finishReason).toBe(
      "length",
    );
  });

  test("finish reasons: eos when an end token is sampled, length at max_new_tokens", async () => {
    const first = (
      await decoder.generate(
        [{ inputIds: promptA, traces: 1, seed: 0 }],
        options({ maxNewTokens: 3 }),
      )
    ).traces[0];
    expect(first).toMatchObject({ finishReason: "length" });
    expect(first?.tokenIds).toHaveLength(3);
    const end = first?.tokenIds[1] as number;
    const eos = new Set([end]);
    const ended = (
      await decoder.generate(
        [{ inputIds: promptA, traces: 1, seed: 0 }],
        options({ maxNewTokens: 3, eosTokenIds: eos }),
      )
    ).traces[0];
    // Generation ends at the first occurrence of the end token, which is kept.
    const until = (first?.tokenIds.indexOf(end) as number) + 1;
    expect(ended).toMatchObject({ finishReason: "eos", tokenIds: first?.tokenIds.slice(0, until) });
  });
});

describe("Decoder memory guard", () => {
  test("a batch whose KV cache cannot fit is refused up front with what to do", async () => {
    const inputIds = new Array(1000).fill(9707);
    const run = decoder.generate(
      [{ inputIds, traces: 1_000_000, seed: 0 }],
      options({ maxNewTokens: 1000 }),
    );
    // Tiny: 2 layers x (key, value) x 2 kv heads x 16 dims x 4 bytes = 512 bytes per position,
    // x 2000 positions x 1e6 traces, once: the graph reads its cache in place (no second copy).
    expect(decoder.shape.kvCopiesPerStep).toBe(1);
    const gib = ((512 * 2000 * 1_000_000) / 2 ** 30).toFixed(1);
    await expect(run).rejects.toThrow(
      new RegExp(
        `need about ${gib} GiB for the KV cache \\(1 copy during a step\\).* use --max-rows \\d+ or fewer`,
      ),
    );
  });
});
