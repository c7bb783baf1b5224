/**
 * Inference benchmark: our decoder against transformers.js generate() on the same model file,
 * thread count and workload, plus the machine's roofline for that workload. Prints JSON.
 *
 *   npm run bench:inference -- [--shape tiny|qwen3-0.6b] [--traces N] [--new-tokens T]
 *                              [--prompt-tokens P] [--threads N] [--device cpu|cuda] [--json]
 *
 * Tokens/s = generated tokens per wall-clock second, prefill included. Each side runs in its own
 * fresh process (scripts/bench-inference-side.ts: workload, warm-up and timing are described
 * there), one after the other, then the roofline probes run here. The roofline is the time this
 * machine needs at least for the same work: prefill FLOPs at the measured peak matmul rate, then every
 * decode step's weight + KV-cache bytes at the measured memory bandwidth (or its FLOPs at peak,
 * whichever is slower). Peak and bandwidth are measured here, with onnxruntime on the same threads,
 * before and after the two sides (the best of each counts; the bandwidth over one decode step's
 * working set: see the probes).
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { availableParallelism, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { onnx as Onnx } from "onnx-proto";
import onnxProto from "onnx-proto";
import * as ort from "onnxruntime-node";
import { cacheDirFromEnv } from "../src/hf/settings.js";
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
/** Runs one side in a fresh process (scripts/bench-inference-side.ts) and returns its JSON. */
function runSide(side: "ours" | "transformersjs"): Record<string, number | string> {
  const script = join(dirname(fileURLToPath(import.meta.url)), "bench-inference-side.ts");
  const args = {
    side,
    "model-dir": modelDir,
    traces,
    "new-tokens": newTokens,
    "prompt-tokens": promptTokens,
    threads,
    device,
    "cache-dir": cacheDir,
  };
  const out = execFileSync(
    process.execPath,
    ["--import", "tsx", script, ...Object.entries(args).flatMap(([k, v]) => [`--${k}`, String(v)])],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 20 },
  );
  return JSON.parse(out.trim().split("\n").pop() as string);
}

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
// Bandwidth over the bytes one decode step streams (weights + the final KV cache), up to
// 256 MiB: a step re-reads the same weights, so a model that fits in the CPU caches runs at
// cache speed, and a larger one at memory speed. Two access patterns, the faster one counts: a
// ReduceSum over the bytes, and the matrix-vector product that streams weights in decode.
const stepBytes = weightBytes + traces * layers * 2 * kv * (promptTokens + newTokens) * hd * 4;
const streamFloats = Math.min(stepBytes, 256 * 2 ** 20) / 4;
const gemvColumns = Math.max(1, Math.floor(streamFloats / 1024));
/**
 * The machine's peak matmul rate and memory bandwidth, as onnxruntime sees them on `threads`
 * threads. This shared VM's bandwidth drifts by minutes (14-62 GB/s seen), so the probes run
 * before and after the two sides and the roofline takes the best of each: the fastest the
 * machine was seen to go.
 */
async function measureMachine(): Promise<{ peakFlops: number; bandwidth: number }> {
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
  const peak =
    (2 * m * k * n) /
    (await best(matmul, {
      a: new ort.Tensor("float32", new Float32Array(m * k).fill(0.01), [m, k]),
      b: new ort.Tensor("float32", new Float32Array(k * n).fill(0.01), [k, n]),
    }));
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
  const gemv = await ort.InferenceSession.create(
    singleOpModel(
      [{ opType: "MatMul", input: ["v", "w"], output: ["y"] }],
      [floatInput("v", [1, 1024]), floatInput("w", [1024, gemvColumns])],
      [],
    ),
    sessionOptions,
  );
  const bandwidth = Math.max(
    (4 * streamFloats) /
      (await best(reduce, {
        x: new ort.Tensor("float32", new Float32Array(streamFloats).fill(1), [streamFloats]),
      })),
    (4 * 1024 * gemvColumns) /
      (await best(gemv, {
        v: new ort.Tensor("float32", new Float32Array(1024).fill(0.01), [1, 1024]),
        w: new ort.Tensor("float32", new Float32Array(1024 * gemvColumns).fill(0.01), [
          1024,
          gemvColumns,
        ]),
      })),
  );
  await Promise.all([matmul, reduce, gemv].map((session) => session.release()));
  return { peakFlops: peak, bandwidth };
}
const before = await measureMachine();

log(
  `ours: ${traces} traces x ${newTokens} tokens, ${promptTokens}-token prompt, ${threads} threads`,
);
const ours = runSide("ours");

// transformers.js, skipped when its full-vocabulary prefill logits cannot fit in memory.
const peerLogitsBytes = 4 * traces * promptTokens * shape.vocabSize;
const peerSkipped =
  peerLogitsBytes > 0.4 * totalmem()
    ? `transformers.js would materialise ${(peerLogitsBytes / 2 ** 30).toFixed(1)} GiB of prefill logits ([N, P, vocab] fp32) on a ${(totalmem() / 2 ** 30).toFixed(0)} GiB machine`
    : null;
if (peerSkipped !== null) log(`transformers.js skipped: ${peerSkipped}`);
else log("transformers.js: batch of N copies of the prompt");
const peer = peerSkipped === null ? runSide("transformersjs") : null;
const after = await measureMachine();
const peakFlops = Math.max(before.peakFlops, after.peakFlops);
const bandwidth = Math.max(before.bandwidth, after.bandwidth);

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

const oursRate = (ours.tokens as number) / (ours.seconds as number);
const peerRate = peer === null ? null : (peer.tokens as number) / (peer.seconds as number);
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
  engine_overhead_fraction: (ours.engine_ms as number) / (ours.decode_ms as number),
  ours_prefill_ms: ours.prefill_ms,
  ours_decode_ms: ours.decode_ms,
  ours_first_call_engine_ms: ours.first_call_engine_ms,
  measured_peak_gflops: peakFlops / 1e9,
  measured_bandwidth_gbs: bandwidth / 1e9,
  bandwidth_probes_gbs: [before.bandwidth / 1e9, after.bandwidth / 1e9],
};
process.stdout.write(
  values.json ? `${JSON.stringify(report)}\n` : `${JSON.stringify(report, null, 2)}\n`,
);
