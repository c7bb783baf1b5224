/** Graph surgery and its on-disk cache, on the tiny test model. */
import { cpSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { onnx as Onnx } from "onnx-proto";
import onnxProto from "onnx-proto";
import * as ort from "onnxruntime-node";
import { beforeAll, describe, expect, test } from "vitest";
import { augmentDecoder, TOPK_IDS, TOPK_LOGPROBS } from "../../src/inference/graph/augment.js";
import { augmentedGraph } from "../../src/inference/graph/cache.js";
import { loadModel } from "../../src/inference/model.js";
import { testTempDir, tinyModelDir } from "../support/tiny-model.js";

const { onnx } = onnxProto;
let source: string;

beforeAll(async () => {
  source = join(tinyModelDir(), "onnx", "model.onnx");
}, 60_000);

describe("graph augmentation", () => {
  test("outputs the top-k of the last position instead of all logits", async () => {
    const cacheDir = testTempDir("cache-");
    const path = await augmentedGraph(source, { topk: 5, cacheDir });
    const session = await ort.InferenceSession.create(path);
    expect(session.outputNames).toContain(TOPK_LOGPROBS);
    expect(session.outputNames).toContain(TOPK_IDS);
    expect(session.outputNames).not.toContain("logits");
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor("int64", BigInt64Array.from([1n, 2n, 3n]), [1, 3]),
      attention_mask: new ort.Tensor("int64", BigInt64Array.from([1n, 1n, 1n]), [1, 3]),
      position_ids: new ort.Tensor("int64", BigInt64Array.from([0n, 1n, 2n]), [1, 3]),
    };
    for (const name of session.inputNames.filter((n) => n.startsWith("past_key_values"))) {
      feeds[name] = new ort.Tensor("float32", new Float32Array(0), [1, 2, 0, 16]);
    }
    const out = await session.run(feeds);
    expect(out[TOPK_LOGPROBS]?.dims).toEqual([1, 1, 5]);
    expect(out[TOPK_IDS]?.dims).toEqual([1, 1, 5]);
    const values = [...((out[TOPK_LOGPROBS] as ort.Tensor).data as Float32Array)];
    expect(values).toEqual([...values].sort((a, b) => b - a));
    expect(values.every((v) => v <= 0)).toBe(true);
  });

  test("returns only a step's new KV positions: the tail of the original graph's presents", async () => {
    const augmented = await ort.InferenceSession.create(
      await augmentedGraph(source, { topk: 5, cacheDir: testTempDir("cache-") }),
    );
    const original = await ort.InferenceSession.create(source);
    expect(augmented.outputNames.filter((n) => n.startsWith("present."))).toEqual([]);
    const pasts = original.inputNames.filter((n) => n.startsWith("past_key_values"));
    expect(augmented.outputNames.filter((n) => n.startsWith("present_new."))).toHaveLength(
      pasts.length,
    );
    // A past of 3 positions (random values) and 2 new tokens, batch 2.
    const [heads, dim] = [2, 16];
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor("int64", BigInt64Array.from([4n, 5n, 6n, 7n]), [2, 2]),
      attention_mask: new ort.Tensor("int64", new BigInt64Array(10).fill(1n), [2, 5]),
      position_ids: new ort.Tensor("int64", BigInt64Array.from([3n, 4n, 3n, 4n]), [2, 2]),
    };
    for (const name of pasts) {
      const values = Float32Array.from({ length: 2 * heads * 3 * dim }, () => Math.random() - 0.5);
      feeds[name] = new ort.Tensor("float32", values, [2, heads, 3, dim]);
    }
    const [ours, theirs] = await Promise.all([augmented.run(feeds), original.run(feeds)]);
    for (const name of pasts) {
      const suffix = name.slice("past_key_values.".length);
      const fresh = ours[`present_new.${suffix}`] as ort.Tensor;
      const full = theirs[`present.${suffix}`] as ort.Tensor;
      expect(fresh.dims).toEqual([2, heads, 2, dim]);
      const tail: number[] = [];
      const data = full.data as Float32Array;
      for (let row = 0; row < 2 * heads; row++) {
        tail.push(...data.subarray((row * 5 + 3) * dim, (row * 5 + 5) * dim));
      }
      // Layers after the first see attention summed in another order (past and new apart).
      const received = fresh.data as Float32Array;
      expect(received).toHaveLength(tail.length);
      received.forEach((value, i) => {
        expect(Math.abs(value - (tail[i] as number))).toBeLessThan(1e-5);
      });
    }
  });

  test("attention reads the past where it lies: no node copies a past input", () => {
    const model = augmentDecoder(onnx.ModelProto.decode(readFileSync(source)), 20);
    const nodes = model.graph?.node ?? [];
    const readersOfPast = nodes.filter((n) =>
      n.input?.some((i) => i.startsWith("past_key_values.")),
    );
    expect(readersOfPast.map((n) => n.opType).filter((op) => op === "Concat")).toEqual([]);
    // Each layer's keys: a MatMul of the queries with the past's transpose; values: a MatMul.
    expect(new Set(readersOfPast.map((n) => n.opType))).toEqual(
      new Set(["Shape", "Transpose", "MatMul"]),
    );
    // Nodes stay in topological order: every input is produced earlier (or is a graph input).
    const known = new Set([
      ...(model.graph?.input ?? []).map((i) => i.name),
      ...(model.graph?.initializer ?? []).map((i) => i.name),
    ]);
    for (const node of nodes) {
      for (const input of node.input ?? []) if (input) expect(known).toContain(input);
      for (const output of node.output ?? []) known.add(output);
    }
  });

  test("keeps the cache copy where attention reads it through an unknown op, and stays exact", async () => {
    // Layer 0's key concat reaches attention through an op the rewrite does not know.
    const model = onnx.ModelProto.decode(readFileSync(source));
    const graph = model.graph as NonNullable<typeof model.graph>;
    graph.node?.push({
      name: "probe/identity",
      opType: "Identity",
      input: ["present.0.key"],
      output: ["probe/keys"],
    });
    attentionTranspose(graph, "present.0.key").input = ["probe/keys"];
    const original = onnx.ModelProto.encode(model).finish();
    const augmented = augmentDecoder(onnx.ModelProto.decode(original), 20);
    expect(pastConcats(augmented)).toEqual(["past_key_values.0.key"]);
    await expectTopkOfOriginal(augmented, original);
  });

  test("a model whose attention keeps a copy says so when it loads; one without does not", async () => {
    const dir = testTempDir("model-");
    cpSync(tinyModelDir(), dir, { recursive: true });
    const model = onnx.ModelProto.decode(readFileSync(source));
    const graph = model.graph as Graph;
    graph.node?.push({
      name: "probe/identity",
      opType: "Identity",
      input: ["present.1.value"],
      output: ["probe/values"],
    });
    const reader = (graph.node ?? []).find(
      (n) => n.opType === "MatMul" && n.input?.[1] === "present.1.value",
    ) as Onnx.INodeProto;
    reader.input = [reader.input?.[0] as string, "probe/values"];
    writeFileSync(join(dir, "onnx", "model.onnx"), onnx.ModelProto.encode(model).finish());
    const load = (folder: string) =>
      loadModel(folder, {
        dtype: "fp32",
        device: "cpu",
        topk: 20,
        cacheDir: testTempDir("cache-"),
      });
    const [copying, inPlace] = await Promise.all([load(dir), load(tinyModelDir())]);
    expect(copying.notes.join("\n")).toMatch(/reads 1 of its 4 KV cache tensors through ops/);
    expect(inPlace.notes.join("\n")).not.toMatch(/KV cache tensors/);
    await Promise.all([copying.decoder.session.release(), inPlace.decoder.session.release()]);
  });

  test("reads through an Identity that names a present output, as torch exports may write", async () => {
    // present.0.key = Identity(concat output), and attention reads the concat output.
    const model = onnx.ModelProto.decode(readFileSync(source));
    const graph = model.graph as NonNullable<typeof model.graph>;
    const concat = (graph.node ?? []).find((n) => n.output?.[0] === "present.0.key");
    (concat as NonNullable<typeof concat>).output = ["probe/concat"];
    attentionTranspose(graph, "present.0.key").input = ["probe/concat"];
    graph.node?.push({
      name: "probe/name_present",
      opType: "Identity",
      input: ["probe/concat"],
      output: ["present.0.key"],
    });
    const original = onnx.ModelProto.encode(model).finish();
    const augmented = augmentDecoder(onnx.ModelProto.decode(original), 20);
    expect(pastConcats(augmented)).toEqual([]);
    await expectTopkOfOriginal(augmented, original);
  });

  test("is cached by source hash and k: the second call reuses the file", async () => {
    const cacheDir = testTempDir("cache-");
    const first = await augmentedGraph(source, { topk: 20, cacheDir });
    const written = statSync(first).mtimeMs;
    const again = await augmentedGraph(source, { topk: 20, cacheDir });
    expect(again).toBe(first);
    expect(statSync(again).mtimeMs).toBe(written);
    const otherK = await augmentedGraph(source, { topk: 8, cacheDir });
    expect(otherK).not.toBe(first);
  });

  test("refuses graphs it cannot change, with a reason", () => {
    const model = onnx.ModelProto.decode(readFileSync(source));
    augmentDecoder(model, 20);
    expect(() => augmentDecoder(model, 20)).toThrow(/already augmented/);
    const noLogits = onnx.ModelProto.create({
      opsetImport: [{ domain: "", version: 17 }],
      graph: { node: [], output: [{ name: "y" }] },
    });
    expect(() => augmentDecoder(noLogits, 20)).toThrow(/no 'logits' output/);
    const noCache = onnx.ModelProto.decode(readFileSync(source));
    const graph = noCache.graph as NonNullable<typeof noCache.graph>;
    graph.input = graph.input?.filter((i) => !i.name?.startsWith("past_key_values"));
    expect(() => augmentDecoder(noCache, 20)).toThrow(/no past_key_values.*KV cache/);
  });
});

type Graph = NonNullable<Onnx.IModelProto["graph"]>;

/** The Transpose that feeds `keys` to attention's first MatMul. */
function attentionTranspose(graph: Graph, keys: string): Onnx.INodeProto {
  const node = (graph.node ?? []).find((n) => n.opType === "Transpose" && n.input?.[0] === keys);
  if (!node) throw new Error(`no Transpose reads ${keys}`);
  return node;
}

/** The past inputs that a Concat still copies in the graph. */
function pastConcats(model: Onnx.IModelProto): string[] {
  return (model.graph?.node ?? [])
    .filter((n) => n.opType === "Concat" && n.input?.[0]?.startsWith("past_key_values."))
    .map((n) => n.input?.[0] as string);
}

/**
 * The augmented graph's top-k log-probs equal log_softmax of the original graph's logits (1e-5),
 * one decode step over a random past of 3 positions.
 */
async function expectTopkOfOriginal(augmented: Onnx.IModelProto, original: Uint8Array) {
  const sessions = await Promise.all([
    ort.InferenceSession.create(onnx.ModelProto.encode(augmented).finish()),
    ort.InferenceSession.create(original),
  ]);
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor("int64", BigInt64Array.from([9n]), [1, 1]),
    attention_mask: new ort.Tensor("int64", new BigInt64Array(4).fill(1n), [1, 4]),
    position_ids: new ort.Tensor("int64", BigInt64Array.from([3n]), [1, 1]),
  };
  for (const name of sessions[1].inputNames.filter((n) => n.startsWith("past_key_values"))) {
    const values = Float32Array.from({ length: 2 * 3 * 16 }, () => Math.random() - 0.5);
    feeds[name] = new ort.Tensor("float32", values, [1, 2, 3, 16]);
  }
  const [ours, theirs] = (await Promise.all(sessions.map((s) => s.run(feeds)))) as [
    ort.InferenceSession.ReturnType,
    ort.InferenceSession.ReturnType,
  ];
  const logits = (theirs.logits as ort.Tensor).data as Float32Array;
  let max = Number.NEGATIVE_INFINITY;
  for (const x of logits) max = Math.max(max, x);
  let sum = 0;
  for (const x of logits) sum += Math.exp(x - max);
  const ids = (ours[TOPK_IDS] as ort.Tensor).data as BigInt64Array;
  const logprobs = (ours[TOPK_LOGPROBS] as ort.Tensor).data as Float32Array;
  expect(ids).toHaveLength(20);
  ids.forEach((id, j) => {
    const expected = (logits[Number(id)] as number) - max - Math.log(sum);
    expect(Math.abs((logprobs[j] as number) - expected)).toBeLessThan(1e-5);
  });
}
