/**
 * One side of the inference benchmark, run by scripts/bench-inference.ts in a fresh process so
 * that neither side inherits the other's memory (measured: transformers.js ran 20-60% slower
 * when it followed our decoder in the same process). Prints one JSON line.
 *
 *   tsx scripts/bench-inference-side.ts --side ours|transformersjs --model-dir DIR --shape S
 *       --traces N --new-tokens T --prompt-tokens P --threads N --device D --cache-dir DIR
 *
 * Both sides: the same call twice, an untimed warm-up, then the timed one: N traces of exactly
 * T tokens (EOS disabled) from one P-token prompt. transformers.js gets the natural equivalent,
 * a batch of N copies of the prompt. The warm-up sizes onnxruntime's memory arena and (ours)
 * the reusable KV buffers, as a run's earlier instances would; what the first call pays for
 * ours in JavaScript (first touch of the KV buffers) is reported as first_call_engine_ms.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { AutoModelForCausalLM, env, Tensor } from "@huggingface/transformers";
import { loadModel } from "../src/inference/model.js";
import type { Device } from "../src/inference/session.js";

const { values } = parseArgs({
  options: {
    side: { type: "string" },
    "model-dir": { type: "string" },
    traces: { type: "string" },
    "new-tokens": { type: "string" },
    "prompt-tokens": { type: "string" },
    threads: { type: "string" },
    device: { type: "string" },
    "cache-dir": { type: "string" },
  },
});
const modelDir = values["model-dir"] as string;
const traces = Number(values.traces);
const newTokens = Number(values["new-tokens"]);
const threads = Number(values.threads);
const device = values.device as Device;
const seconds = (start: number) => (performance.now() - start) / 1000;
/** A fixed prompt of ordinary (non-special) token ids. */
const prompt = Array.from(
  { length: Number(values["prompt-tokens"]) },
  (_, i) => (i * 7919 + 13) % 150000,
);

async function ours(): Promise<Record<string, number | string>> {
  const model = await loadModel(modelDir, {
    dtype: "fp32",
    device,
    threads,
    topk: 20,
    cacheDir: values["cache-dir"] as string,
  });
  const generation = {
    sampling: { greedy: false, temperature: 0.7, topP: 0.8, topK: 20 },
    eosTokenIds: new Set<number>(),
    padTokenId: model.padTokenId,
  };
  const call = () =>
    model.decoder.generate([{ inputIds: prompt, traces, seed: 0 }], {
      ...generation,
      maxNewTokens: newTokens,
    });
  const warmup = await call();
  const start = performance.now();
  const result = await call();
  const elapsed = seconds(start);
  await model.decoder.session.release();
  return {
    device: model.device,
    seconds: elapsed,
    tokens: result.traces.reduce((sum, t) => sum + t.tokenIds.length, 0),
    prefill_ms: result.timing.prefillMs,
    decode_ms: result.timing.decodeMs,
    engine_ms: result.timing.engineMs,
    first_call_engine_ms: warmup.timing.engineMs,
  };
}

async function transformersjs(): Promise<Record<string, number>> {
  env.allowRemoteModels = false;
  env.localModelPath = join(modelDir, "..");
  const model = await AutoModelForCausalLM.from_pretrained(modelDir.split("/").pop() as string, {
    dtype: "fp32",
    device: device === "cuda" ? "cuda" : "cpu",
    local_files_only: true,
    session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
  });
  const batch = {
    input_ids: new Tensor(
      "int64",
      BigInt64Array.from({ length: traces * prompt.length }, (_, i) =>
        BigInt(prompt[i % prompt.length] as number),
      ),
      [traces, prompt.length],
    ),
    attention_mask: new Tensor("int64", new BigInt64Array(traces * prompt.length).fill(1n), [
      traces,
      prompt.length,
    ]),
  };
  const call = () =>
    model.generate({
      ...batch,
      do_sample: true,
      temperature: 0.7,
      top_k: 20,
      max_new_tokens: newTokens,
      min_new_tokens: newTokens,
    });
  await call();
  const start = performance.now();
  await call();
  const elapsed = seconds(start);
  await model.dispose();
  return { seconds: elapsed, tokens: traces * newTokens };
}

const result = values.side === "ours" ? await ours() : await transformersjs();
process.stdout.write(`${JSON.stringify(result)}\n`);
