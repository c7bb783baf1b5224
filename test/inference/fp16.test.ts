/**
 * The fp16 path (model_fp16.onnx: float16 weights, KV cache and logits), on an fp16 copy of the
 * tiny model: the augmented graph casts logits to float32 before LogSoftmax, the decoder keeps
 * the cache as float16 bits, and what it returns matches the unaugmented fp16 graph run over the
 * whole sequence without a cache.
 */
import { join } from "node:path";
import { Float16Array } from "@petamoriken/float16";
import * as ort from "onnxruntime-node";
import { beforeAll, describe, expect, test } from "vitest";
import type { TraceStep } from "../../src/inference/decoder.js";
import { type LoadedModel, loadModel } from "../../src/inference/model.js";
import { chatPromptIds } from "../../src/inference/tokenizer.js";
import { wholeSequenceFeeds } from "../support/feeds.js";
import { tinyFp16ModelDir } from "../support/fp16.js";
import { testTempDir } from "../support/tiny-model.js";

let dir: string;
let model: LoadedModel;

beforeAll(async () => {
  dir = tinyFp16ModelDir();
  model = await loadModel(dir, {
    dtype: "fp16",
    device: "cpu",
    topk: 20,
    cacheDir: testTempDir("cache-"),
  });
}, 60_000);

/** log_softmax over each position's logits of the fp16 graph run on the whole sequence. */
async function recomputedLogSoftmax(sequence: number[]): Promise<number[][]> {
  const session = await ort.InferenceSession.create(join(dir, "onnx", "model_fp16.onnx"));
  const n = sequence.length;
  const feeds = wholeSequenceFeeds(sequence, model.decoder.shape);
  const logits = (await session.run(feeds)).logits as ort.Tensor;
  expect(logits.type).toBe("float16");
  const bits = logits.data as Uint16Array;
  const values = new Float16Array(bits.buffer, bits.byteOffset, bits.length);
  const vocab = logits.dims[2] as number;
  return Array.from({ length: n }, (_, position) => {
    const row = Array.from(values.subarray(position * vocab, (position + 1) * vocab));
    const max = row.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY);
    const logSum = Math.log(row.reduce((sum, x) => sum + Math.exp(x - max), 0));
    return row.map((x) => x - max - logSum);
  });
}

describe("fp16 models", () => {
  test("load with a float16 KV cache", () => {
    expect(model.decoder.shape.kvType).toBe("float16");
    expect(model.source.dtype).toBe("fp16");
  });

  test("each step's top-k equals log_softmax of the uncached fp16 graph's logits", async () => {
    const prompt = chatPromptIds(model.tokenizer, { prompt: "Is the sky blue?", thinking: false });
    const steps: TraceStep[] = [];
    const result = await model.decoder.generate([{ inputIds: prompt, traces: 2, seed: 5 }], {
      sampling: { greedy: false, temperature: 0.8, topP: 0.95, topK: 20 },
      maxNewTokens: 8,
      eosTokenIds: new Set<number>(),
      padTokenId: model.padTokenId,
      onStep: (step) => {
        steps.push({ ...step, logprobs: step.logprobs.slice() });
        return undefined;
      },
    });
    expect(result.traces).toHaveLength(2);
    for (const trace of result.traces) {
      expect(trace.tokenIds).toHaveLength(8);
      const reference = await recomputedLogSoftmax([...prompt, ...trace.tokenIds]);
      trace.tokenIds.forEach((tokenId, position) => {
        const expected = reference[prompt.length - 1 + position] as number[];
        const best = [...expected].sort((a, b) => b - a).slice(0, 20);
        const step = steps.find((s) => s.trace === trace.trace && s.position === position);
        expect(step?.tokenId).toBe(tokenId);
        // fp16 activations: cached and uncached attention round differently.
        step?.logprobs.forEach((value, j) => {
          expect(Math.abs(value - (best[j] as number))).toBeLessThan(0.01);
        });
        expect(step?.logprobs.some((v) => Math.abs(v - (expected[tokenId] as number)) < 0.01)).toBe(
          true,
        );
      });
    }
  });
});
