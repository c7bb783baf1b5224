/**
 * Inference benchmark: our decoder against transformers.js generate() on the same model file,
 * thread count and workload, plus the machine's roofline for that workload. Prints JSON.
 *
 *   npm run bench:inference -- [--shape tiny|qwen3-0.6b] [--traces N] [--new-tokens T]
 *                              [--prompt-tokens P] [--threads N] [--device cpu|cuda] [--json]
 *
 * Tokens/s = generated tokens per wall-clock second, prefill included. Both sides sample N
 * traces of exactly T tokens (EOS disabled) from one P-token prompt; transformers.js gets the
 * natural equivalent, a batch of N copies of the prompt. The roofline is the time this machine
 * needs at least for the same work: prefill FLOPs at the measured peak matmul rate, then every
 * decode step's weight + KV-cache bytes at the measured memory bandwidth (or its FLOPs at peak,
 * whichever is slower). Peak and bandwidth are measured here, with onnxruntime on the same threads.
 */
import { existsSync } from "node:fs";
import { availableParallelism, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { AutoModelForCausalLM, env, Tensor } from "@huggingface/transformers";
import type { onnx as Onnx } from "onnx-proto";
import onnxProto from "onnx-proto";
import * as ort from "onnxruntime-node";
import { cacheDirFromEnv } from "../src/hf/settings.js";
import { loadModel } from "../src/inference/model.js";
import type { Device } from "../src/inference/session.js";
import {
  buildTestModel,
  resolveShape,
  type TestModelShapeName,
} from "../src/inference/testmodel/index.js";

const { onnx } = onnxProto;
const { values } = parseArgs({
  options: {
    shape: { type: "string", default: "qwen3-0.6b" },
    traces: { type: "string", default: "8" },
    "new-tokens": { type: "string", default: "64" },
    "prompt-tokens": { type: "string", default: "256" },
    threads: { type: "string", default: String(availableParallelism()) },
    device: { type: "string", default: "cpu" },
    json: { type: "boolean", default: false },
  },
});
const shapeName = values.shape as TestModelShapeName;
const shape = resolveShape(shapeName);
const traces = Number(values.traces);
const newTokens = Number(values["new-tokens"]);
const promptTokens = Number(values["prompt-tokens"]);
const threads = Number(values.threads);
const device = values.device as Device;
const log = (text: string) => process.stderr.write(`[bench] ${text}\n`);
const seconds = (start: number) => (performance.now() - start) / 1000;

// The model: built once per shape into the cache.
const cacheDir = cacheDirFromEnv();
const modelDir = join(cacheDir, "test-models", `${shapeName}-seed0`);
if (!existsSync(join(modelDir, "config.json"))) {
  log(`building the ${shapeName} test model in ${modelDir}`);
  await buildTestModel({ out: modelDir, shape: shapeName, seed: 0, overwrite: true });
}
// A fixed prompt of ordinary (non-special) token ids.
const prompt = Array.from({ length: promptTokens }, (_, i) => (i * 7919 + 13) % 150000);

// ---- ours
log(
  `ours: ${traces} traces x ${newTokens} tokens, ${promptTokens}-token prompt, ${threads} threads`,
);
const ours = await loadModel(modelDir, { dtype: "fp32", device, threads, topk: 20, cacheDir });
const sampling = { greedy: false, temperature: 0.7, topP: 0.8, topK: 20 };
const generation = { sampling, eosTokenIds: new Set<number>(), padTokenId: ours.padTokenId };
// Warm-up, the same for both sides: the workload's batch and prompt, 2 new tokens. It sizes
// onnxruntime's memory arena and (ours) the reusable KV buffers, as earlier instances of a run
// would; the first call of a process pays page faults for them (reported separately).
const warmup = await ours.decoder.generate([{ inputIds: prompt, traces, seed: 1 }], {
  ...generation,
  maxNewTokens: 2,
});
const start = performance.now();
const result = await ours.decoder.generate([{ inputIds: prompt, traces, seed: 0 }], {
  ...generation,
  maxNewTokens: newTokens,
});
const oursSeconds = seconds(start);
const generated = result.traces.reduce((sum, t) => sum + t.tokenIds.length, 0);
await ours.decoder.session.release();

// ---- transformers.js (skipped when its full-vocabulary prefill logits cannot fit in memory)
const peerLogitsBytes = 4 * traces * promptTokens * shape.vocabSize;
const peerSkipped =
  peerLogitsBytes > 0.4 * totalmem()
    ? `transformers.js would materialise ${(peerLogitsBytes / 2 ** 30).toFixed(1)} GiB of prefill logits ([N, P, vocab] fp32) on a ${(totalmem() / 2 ** 30).toFixed(0)} GiB machine`
    : null;
/** transformers.js on the same folder: a batch of N copies of the prompt, sampling. */
async function runPeer(): Promise<number> {
  log("transformers.js: batch of N copies of the prompt");
  env.allowRemoteModels = false;
  env.localModelPath = join(modelDir, "..");
  const peer = await AutoModelForCausalLM.from_pretrained(`${shapeName}-seed0`, {
    dtype: "fp32",
    device: device === "cuda" ? "cuda" : "cpu",
    local_files_only: true,
    session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
  });
  const batchOf = (n: number, ids: number[]) => ({
    input_ids: new Tensor(
      "int64",
      BigInt64Array.from({ length: n * ids.length }, (_, i) =>
        BigInt(ids[i % ids.length] as number),
      ),
      [n, ids.length],
    ),
    attention_mask: new Tensor("int64", new BigInt64Array(n * ids.length).fill(1n), [
      n,
      ids.length,
    ]),
  });
  const sample = { do_sample: true, temperature: 0.7, top_k: 20 };
  await peer.generate({
    ...batchOf(traces, prompt),
    ...sample,
    max_new_tokens: 2,
    min_new_tokens: 2,
  });
  const begin = performance.now();
  await peer.generate({
    ...batchOf(traces, prompt),
    ...sample,
    max_new_tokens: newTokens,
    min_new_tokens: newTokens,
  });
  const elapsed = seconds(begin);
  await peer.dispose();
  return elapsed;
}
if (peerSkipped !== null) log(`transformers.js skipped: ${peerSkipped}`);
const peerSeconds = peerSkipped === null ? await runPeer() : Number.NaN;

// ---- roofline: measured peak matmul rate and memory bandwidth
function singleOpModel(
  nodes: Onnx.INodeProto[],
  inputs: Onnx.IValueInfoProto[],
  initializers: Onnx.ITensorProto[],
): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    graph: {
      name: "probe",
      node: nodes,
      input: inputs,
      output: [{ name: "y", type: { tensorType: { elemType: 1 } } }],
      initializer: initializers,
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
const floatInput = (name: string, dims: number[]): Onnx.IValueInfoProto => ({
  name,
  type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
});
const sessionOptions: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  executionProviders: ["cpu"],
};
async function best(
  session: ort.InferenceSession,
  feeds: Record<string, ort.Tensor>,
  runs = 5,
): Promise<number> {
  let fastest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await session.run(feeds);
    fastest = Math.min(fastest, seconds(t));
  }
  return fastest;
}
log("roofline probes: matmul peak and memory bandwidth");
const [m, k, n] = [1024, 1024, 4096];
const matmul = await ort.InferenceSession.create(
  singleOpModel(
    [{ opType: "MatMul", input: ["a", "b"], output: ["y"] }],
    [floatInput("a", [m, k]), floatInput("b", [k, n])],
    [],
  ),
  sessionOptions,
);
const peakFlops =
  (2 * m * k * n) /
  (await best(matmul, {
    a: new ort.Tensor("float32", new Float32Array(m * k).fill(0.01), [m, k]),
    b: new ort.Tensor("float32", new Float32Array(k * n).fill(0.01), [k, n]),
  }));
const streamFloats = 64 * 2 ** 20; // 256 MiB: far beyond any cache
const reduce = await ort.InferenceSession.create(
  singleOpModel(
    [
      {
        opType: "ReduceSum",
        input: ["x"],
        output: ["y"],
        attribute: [{ name: "keepdims", type: 2, i: 0 }],
      },
    ],
    [floatInput("x", [streamFloats])],
    [],
  ),
  sessionOptions,
);
const bandwidth =
  (4 * streamFloats) /
  (await best(reduce, {
    x: new ort.Tensor("float32", new Float32Array(streamFloats).fill(1), [streamFloats]),
  }));

// The work: FLOPs and bytes of prefill and of every decode step.
const {
  hiddenSize: h,
  numLayers: layers,
  numHeads: heads,
  numKvHeads: kv,
  headDim: hd,
  intermediateSize: inter,
  vocabSize: vocab,
} = shape;
const layerMatmulParams = h * heads * hd + 2 * h * kv * hd + heads * hd * h + 3 * h * inter;
const lmHeadParams = vocab * h;
const weightBytes = 4 * (layers * layerMatmulParams + lmHeadParams);
const attentionFlops = (rows: number, context: number) => rows * layers * heads * 4 * context * hd;
let rooflineSeconds = Math.max(
  (2 * promptTokens * layers * layerMatmulParams +
    2 * lmHeadParams +
    attentionFlops(promptTokens, promptTokens / 2)) /
    peakFlops,
  weightBytes / bandwidth,
);
for (let step = 1; step < newTokens; step++) {
  const context = promptTokens + step;
  const kvBytes = traces * layers * 2 * kv * context * hd * 4;
  const flops =
    2 * traces * (layers * layerMatmulParams + lmHeadParams) + attentionFlops(traces, context);
  rooflineSeconds += Math.max((weightBytes + kvBytes) / bandwidth, flops / peakFlops);
}

const oursRate = generated / oursSeconds;
const peerRate = peerSkipped === null ? (traces * newTokens) / peerSeconds : null;
const rooflineRate = (traces * newTokens) / rooflineSeconds;
const report = {
  model: shapeName,
  device: ours.device,
  threads,
  traces,
  new_tokens: newTokens,
  prompt_tokens: promptTokens,
  ours_tokens_per_s: oursRate,
  transformersjs_tokens_per_s: peerRate,
  ratio: peerRate === null ? null : oursRate / peerRate,
  transformersjs_skipped: peerSkipped,
  roofline_tokens_per_s: rooflineRate,
  fraction_of_roofline: oursRate / rooflineRate,
  engine_overhead_fraction: result.timing.engineMs / result.timing.decodeMs,
  ours_prefill_ms: result.timing.prefillMs,
  ours_decode_ms: result.timing.decodeMs,
  ours_first_call_engine_ms: warmup.timing.engineMs,
  measured_peak_gflops: peakFlops / 1e9,
  measured_bandwidth_gbs: bandwidth / 1e9,
};
process.stdout.write(
  values.json ? `${JSON.stringify(report)}\n` : `${JSON.stringify(report, null, 2)}\n`,
);
