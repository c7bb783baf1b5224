import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { AutoModelForCausalLM, AutoTokenizer, env, type Tensor } from "@huggingface/transformers";
import onnxProto from "onnx-proto";
import * as ort from "onnxruntime-node";
import { uniformInt } from "pure-rand/distribution/uniformInt";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type BuildTestModelResult,
  buildTestModel,
  FINAL_HIDDEN,
  LM_HEAD_NODE,
  MODEL_DATA_FILE,
  MODEL_FILE,
  makeWeights,
  parameterCount,
  qwen3TokenizerFiles,
  TEST_MODEL_SHAPES,
} from "../../src/inference/testmodel/index.js";
import { type LayerCache, qwen3Forward } from "../support/qwen3-forward.js";
import { testTempDir } from "../support/tiny-model.js";

const { onnx } = onnxProto;
const shape = TEST_MODEL_SHAPES.tiny;
const { numLayers: LAYERS, numKvHeads: KV_HEADS, headDim: HEAD_DIM, vocabSize: VOCAB } = shape;
const SEED = 7;
const PAD = 151643;

let root: string;
let tiny: BuildTestModelResult;
/** The same model (same seed) with its weights forced into model.onnx_data. */
let external: BuildTestModelResult;
let session: ort.InferenceSession;
const weights = makeWeights(shape, SEED);

beforeAll(async () => {
  root = testTempDir("deepconf-testmodel-");
  tiny = await buildTestModel({ out: join(root, "tiny"), shape: "tiny", seed: SEED });
  external = await buildTestModel({
    out: join(root, "external"),
    shape: "tiny",
    seed: SEED,
    externalData: true,
  });
  session = await ort.InferenceSession.create(join(tiny.dir, MODEL_FILE));
});

afterAll(async () => {
  await session?.release();
  if (root) rmSync(root, { recursive: true, force: true });
});

interface Batch {
  inputIds: number[][];
  attentionMask: number[][];
  positionIds: number[][];
}

/** HF's position ids: cumsum(mask) - 1, and 1 on padding. */
function positionsFromMask(mask: number[]): number[] {
  let seen = 0;
  return mask.map((m) => {
    seen += m;
    return m === 1 ? seen - 1 : 1;
  });
}

function leftPadded(rows: number[][]): Batch {
  const width = Math.max(...rows.map((row) => row.length));
  const inputIds = rows.map((row) => [...Array(width - row.length).fill(PAD), ...row]);
  const attentionMask = rows.map((row) => [
    ...Array(width - row.length).fill(0),
    ...Array(row.length).fill(1),
  ]);
  return { inputIds, attentionMask, positionIds: attentionMask.map(positionsFromMask) };
}

function randomTokens(seed: number, count: number): number[] {
  const rng = xoroshiro128plus(seed);
  return Array.from({ length: count }, () => uniformInt(rng, 0, VOCAB - 1));
}

function int64(rows: number[][]): ort.Tensor {
  const data = BigInt64Array.from(rows.flat(), (v) => BigInt(v));
  return new ort.Tensor("int64", data, [rows.length, rows[0]?.length ?? 0]);
}

type Past = Record<string, ort.Tensor>;

function emptyPast(batch: number): Past {
  const past: Past = {};
  for (let i = 0; i < LAYERS; i++) {
    for (const kind of ["key", "value"]) {
      past[`past_key_values.${i}.${kind}`] = new ort.Tensor("float32", new Float32Array(0), [
        batch,
        KV_HEADS,
        0,
        HEAD_DIM,
      ]);
    }
  }
  return past;
}

function pastFromPresent(outputs: ort.InferenceSession.ReturnType): Past {
  const past: Past = {};
  for (let i = 0; i < LAYERS; i++) {
    for (const kind of ["key", "value"]) {
      past[`past_key_values.${i}.${kind}`] = outputs[`present.${i}.${kind}`] as ort.Tensor;
    }
  }
  return past;
}

function run(s: ort.InferenceSession, batch: Batch, past: Past) {
  return s.run({
    input_ids: int64(batch.inputIds),
    attention_mask: int64(batch.attentionMask),
    position_ids: int64(batch.positionIds),
    ...past,
  });
}

function floats(outputs: ort.InferenceSession.ReturnType, name: string): Float32Array {
  return (outputs[name] as ort.Tensor).data as Float32Array;
}

/** Largest absolute difference relative to the largest expected magnitude. */
function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs((actual[i] as number) - (expected[i] as number)));
    scale = Math.max(scale, Math.abs(expected[i] as number));
  }
  return diff / scale;
}

function lastLogits(logits: Float32Array, row: number, seq: number): Float32Array {
  const start = (row * seq + seq - 1) * VOCAB;
  return logits.subarray(start, start + VOCAB);
}

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++)
    if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

describe("tiny test model against a plain TypeScript forward pass", () => {
  const prompt = leftPadded([randomTokens(1, 7), randomTokens(2, 4)]);

  test("logits of every position match, left padding included, from an empty past", async () => {
    const outputs = await run(session, prompt, emptyPast(2));
    const logits = floats(outputs, "logits");
    expect(outputs.logits?.dims).toEqual([2, 7, VOCAB]);
    expect(logits.every(Number.isFinite)).toBe(true); // padded queries too
    const reference = qwen3Forward(shape, weights, { batch: 2, ...prompt });
    expect(relativeError(logits, reference.logits)).toBeLessThan(1e-4);
    for (let i = 0; i < LAYERS; i++) {
      expect(outputs[`present.${i}.key`]?.dims).toEqual([2, KV_HEADS, 7, HEAD_DIM]);
      expect(
        relativeError(floats(outputs, `present.${i}.key`), reference.present[i]?.key ?? []),
      ).toBeLessThan(1e-4);
      expect(
        relativeError(floats(outputs, `present.${i}.value`), reference.present[i]?.value ?? []),
      ).toBeLessThan(1e-4);
    }

    // The comparison sees masking: ignoring row 1's padding moves its real positions' logits.
    const unmasked = {
      ...prompt,
      attentionMask: prompt.attentionMask.map((row) => row.map(() => 1)),
    };
    const wrong = qwen3Forward(shape, weights, { batch: 2, ...unmasked }).logits;
    const row1 = (data: ArrayLike<number>) => Array.from(lastLogits(Float32Array.from(data), 1, 7));
    expect(relativeError(row1(logits), row1(wrong))).toBeGreaterThan(1e-2);
  });

  test("a step fed a non-empty past matches, and so do the presents", async () => {
    const prefill = await run(session, prompt, emptyPast(2));
    const step: Batch = {
      inputIds: [randomTokens(3, 2), randomTokens(4, 2)],
      attentionMask: prompt.attentionMask.map((row) => [...row, 1, 1]),
      positionIds: [],
    };
    step.positionIds = step.attentionMask.map((row) => positionsFromMask(row).slice(-2));
    const outputs = await run(session, step, pastFromPresent(prefill));
    expect(outputs.logits?.dims).toEqual([2, 2, VOCAB]);
    const past: LayerCache[] = Array.from({ length: LAYERS }, (_, i) => ({
      key: floats(prefill, `present.${i}.key`),
      value: floats(prefill, `present.${i}.value`),
    }));
    const reference = qwen3Forward(shape, weights, { batch: 2, ...step, past });
    expect(relativeError(floats(outputs, "logits"), reference.logits)).toBeLessThan(1e-4);
    expect(outputs["present.1.value"]?.dims).toEqual([2, KV_HEADS, 9, HEAD_DIM]);
    expect(
      relativeError(floats(outputs, "present.1.value"), reference.present[1]?.value ?? []),
    ).toBeLessThan(1e-4);
  });

  test("decoding with the KV cache gives the logits of recomputing the whole sequence", async () => {
    const continuation = [randomTokens(5, 4), randomTokens(6, 4)];
    let outputs = await run(session, prompt, emptyPast(2));
    const mask = prompt.attentionMask.map((row) => [...row]);
    const ids = prompt.inputIds.map((row) => [...row]);
    for (let step = 0; step < 4; step++) {
      const tokens = continuation.map((row) => row[step] as number);
      for (const [b, row] of mask.entries()) {
        row.push(1);
        ids[b]?.push(tokens[b] as number);
      }
      const positions = mask.map((row) => positionsFromMask(row).slice(-1));
      const incremental = await run(
        session,
        { inputIds: tokens.map((t) => [t]), attentionMask: mask, positionIds: positions },
        pastFromPresent(outputs),
      );
      const full = await run(
        session,
        { inputIds: ids, attentionMask: mask, positionIds: mask.map(positionsFromMask) },
        emptyPast(2),
      );
      const seq = ids[0]?.length ?? 0;
      for (let b = 0; b < 2; b++) {
        const cached = lastLogits(floats(incremental, "logits"), b, 1);
        const recomputed = lastLogits(floats(full, "logits"), b, seq);
        expect(relativeError(cached, recomputed)).toBeLessThan(1e-4);
      }
      expect(
        relativeError(floats(incremental, "present.0.key"), floats(full, "present.0.key")),
      ).toBeLessThan(1e-4);
      outputs = incremental;
    }
  });
});

describe("graph interface", () => {
  type Io = { name: string; type: string; shape: Array<string | number> };
  const kv = (length: string) => ["batch_size", KV_HEADS, length, HEAD_DIM];

  test("inputs and outputs: names, order, dtypes and symbolic dims of the Optimum exports", () => {
    const inputs: Io[] = [
      { name: "input_ids", type: "int64", shape: ["batch_size", "sequence_length"] },
      { name: "attention_mask", type: "int64", shape: ["batch_size", "total_sequence_length"] },
      { name: "position_ids", type: "int64", shape: ["batch_size", "sequence_length"] },
    ];
    const outputs: Io[] = [
      { name: "logits", type: "float32", shape: ["batch_size", "sequence_length", VOCAB] },
    ];
    for (let i = 0; i < LAYERS; i++) {
      for (const kind of ["key", "value"]) {
        inputs.push({
          name: `past_key_values.${i}.${kind}`,
          type: "float32",
          shape: kv("past_sequence_length"),
        });
        outputs.push({
          name: `present.${i}.${kind}`,
          type: "float32",
          shape: kv("total_sequence_length"),
        });
      }
    }
    const strip = (meta: readonly ort.InferenceSession.ValueMetadata[]) =>
      meta.map((m) => ({
        name: m.name,
        type: m.isTensor ? m.type : "?",
        shape: m.isTensor ? [...m.shape] : [],
      }));
    expect(session.inputNames).toEqual(inputs.map((i) => i.name));
    expect(session.outputNames).toEqual(outputs.map((o) => o.name));
    expect(strip(session.inputMetadata)).toEqual(inputs);
    expect(strip(session.outputMetadata)).toEqual(outputs);
  });

  test("standard ops only; one lm_head MatMul from the final norm and the transposed embedding", () => {
    const model = onnx.ModelProto.decode(readFileSync(join(tiny.dir, MODEL_FILE)));
    expect(Number(model.irVersion)).toBe(8);
    expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([["", 17]]);
    const nodes = model.graph?.node ?? [];
    expect(nodes.every((n) => !n.domain)).toBe(true);
    const producers = nodes.filter((n) => n.output?.includes("logits"));
    expect(producers).toHaveLength(1);
    const lmHead = producers[0] as (typeof nodes)[number];
    expect([lmHead.name, lmHead.opType, lmHead.input?.[0]]).toEqual([
      LM_HEAD_NODE,
      "MatMul",
      FINAL_HIDDEN,
    ]);
    const transpose = nodes.find((n) => n.output?.includes(lmHead.input?.[1] as string));
    expect([transpose?.opType, transpose?.input]).toEqual([
      "Transpose",
      ["model.embed_tokens.weight"],
    ]);
    const names = new Set(model.graph?.initializer?.map((t) => t.name));
    for (const name of [
      "model.embed_tokens.weight",
      "model.layers.1.self_attn.q_norm.weight",
      "model.norm.weight",
    ]) {
      expect(names.has(name)).toBe(true);
    }
    expect(names.has("lm_head.weight")).toBe(false);
  });

  test("GQA attention is 4-D MatMuls on the cache, and onnxruntime reads the K cache in place", async () => {
    const decode = (path: string) => onnx.ModelProto.decode(readFileSync(path)).graph;
    const graph = decode(join(tiny.dir, MODEL_FILE));
    const nodes = graph?.node ?? [];
    const int64s = (name: string) => {
      const raw = graph?.initializer?.find((t) => t.name === name)?.rawData as Uint8Array;
      return Array.from(new BigInt64Array(Uint8Array.from(raw).buffer), Number); // raw may be a Buffer view
    };
    const named = (name: string) => nodes.find((n) => n.name === name);
    const producer = (output: string) => nodes.find((n) => n.output?.includes(output));
    const ints = (node: (typeof nodes)[number] | undefined, attribute: string) =>
      node?.attribute?.find((a) => a.name === attribute)?.ints?.map(Number);
    for (let i = 0; i < LAYERS; i++) {
      const a = `/model/layers.${i}/self_attn`;
      // scores = q [B, kv_heads, groups * S, D] x Transpose(present key, last two axes).
      const qk = named(`${a}/MatMul`);
      const keysT = producer(qk?.input?.[1] as string);
      expect([keysT?.opType, keysT?.input, ints(keysT, "perm")]).toEqual([
        "Transpose",
        [`present.${i}.key`],
        [0, 1, 3, 2],
      ]);
      expect(nodes.filter((n) => n.input?.includes(keysT?.output?.[0] as string))).toEqual([qk]);
      const grouped = producer(qk?.input?.[0] as string);
      expect(grouped?.opType).toBe("Reshape");
      expect(int64s(grouped?.input?.[1] as string)).toEqual([0, KV_HEADS, -1, HEAD_DIM]);
      // out = probs x present value, no Unsqueeze / broadcast in between.
      expect(named(`${a}/MatMul_1`)?.input?.[1]).toBe(`present.${i}.value`);
    }
    expect(nodes.filter((n) => n.opType === "Unsqueeze" && n.name?.includes("/layers."))).toEqual(
      [],
    );

    // After onnxruntime's fusions the only reader of each present key is one FusedMatMul with
    // transB (the Transpose and the scale Mul folded in): no per-step copy of the K cache.
    const optimized = join(root, "optimized.onnx");
    const optimizing = await ort.InferenceSession.create(join(tiny.dir, MODEL_FILE), {
      graphOptimizationLevel: "all",
      optimizedModelFilePath: optimized,
    });
    await optimizing.release();
    const fused = decode(optimized)?.node ?? [];
    for (let i = 0; i < LAYERS; i++) {
      const readers = fused.filter((n) => n.input?.includes(`present.${i}.key`));
      expect(readers.map((n) => [n.opType, n.domain])).toEqual([["FusedMatMul", "com.microsoft"]]);
      const attribute = (name: string) => readers[0]?.attribute?.find((x) => x.name === name);
      expect(Number(attribute("transB")?.i)).toBe(1);
      expect(attribute("alpha")?.f).toBeCloseTo(1 / Math.sqrt(HEAD_DIM), 6);
      const valueReaders = fused.filter((n) => n.input?.includes(`present.${i}.value`));
      expect(valueReaders.map((n) => n.opType)).toEqual(["MatMul"]);
    }
  });
});

describe("model folder", () => {
  test("config, generation config and tokenizer files are there and parse", () => {
    const read = (name: string) => JSON.parse(readFileSync(join(tiny.dir, name), "utf8"));
    const config = read("config.json");
    expect(config).toMatchObject({
      architectures: ["Qwen3ForCausalLM"],
      model_type: "qwen3",
      hidden_size: 64,
      num_hidden_layers: 2,
      num_attention_heads: 6,
      num_key_value_heads: 2,
      head_dim: 16,
      intermediate_size: 128,
      vocab_size: 151936,
      tie_word_embeddings: true,
      bos_token_id: 151643,
      eos_token_id: 151645,
      deepconf_test_model: { shape: "tiny", seed: SEED, note: "random weights" },
    });
    expect(read("generation_config.json")).toMatchObject({
      eos_token_id: [151645, 151643],
      pad_token_id: 151643,
      top_k: 20,
    });
    const source = qwen3TokenizerFiles();
    const copied = readFileSync(join(tiny.dir, "tokenizer.json"));
    expect(copied.equals(readFileSync(source.tokenizer))).toBe(true); // toEqual on 11 MB is slow
    expect(read("tokenizer_config.json").chat_template).toContain("<|im_start|>");
    expect(tiny.parameters).toBe(parameterCount(shape));
    expect(tiny.files.map((f) => f.path).sort()).toEqual(
      [
        "config.json",
        "generation_config.json",
        MODEL_FILE,
        "tokenizer.json",
        "tokenizer_config.json",
      ].sort(),
    );
  });

  test("the same seed gives identical files; another seed other weights", async () => {
    const again = await buildTestModel({ out: join(root, "again"), shape: "tiny", seed: SEED });
    for (const file of tiny.files) {
      const same = readFileSync(join(again.dir, file.path)).equals(
        readFileSync(join(tiny.dir, file.path)),
      );
      expect([file.path, same]).toEqual([file.path, true]);
    }
    const other = makeWeights(shape, SEED + 1);
    for (const [name, data] of weights) {
      expect([
        name,
        Buffer.from(data.buffer).equals(Buffer.from((other.get(name) as Float32Array).buffer)),
      ]).toEqual([name, false]);
    }
    const otherModel = await buildTestModel({
      out: join(root, "other"),
      shape: "tiny",
      seed: SEED + 1,
    });
    const model = readFileSync(join(otherModel.dir, MODEL_FILE));
    expect(model.equals(readFileSync(join(tiny.dir, MODEL_FILE)))).toBe(false);
  });

  test("weights are in a sane range: uniform std near the target, norm gains near 1", () => {
    const stats = (data: Float32Array) => {
      let sum = 0;
      let squares = 0;
      for (const x of data) {
        sum += x;
        squares += x * x;
      }
      const mean = sum / data.length;
      return { mean, std: Math.sqrt(squares / data.length - mean * mean) };
    };
    const q = stats(weights.get("model.layers.0.self_attn.q_proj.weight") as Float32Array);
    expect(q.std).toBeCloseTo(1 / Math.sqrt(64), 2);
    expect(Math.abs(q.mean)).toBeLessThan(0.01);
    const gain = stats(weights.get("model.norm.weight") as Float32Array);
    expect(gain.mean).toBeGreaterThan(0.97);
    expect(gain.mean).toBeLessThan(1.03);
  });

  test("refuses to replace a folder it did not write, replaces its own only with overwrite", async () => {
    const foreign = join(root, "foreign");
    await mkdir(foreign);
    writeFileSync(join(foreign, "notes.txt"), "keep me");
    await expect(buildTestModel({ out: foreign, shape: "tiny", seed: 1 })).rejects.toThrow(
      /refusing/,
    );
    expect(readFileSync(join(foreign, "notes.txt"), "utf8")).toBe("keep me");
    await expect(buildTestModel({ out: tiny.dir, shape: "tiny", seed: 1 })).rejects.toThrow(
      /overwrite/,
    );
    await expect(
      buildTestModel({ out: join(root, "x"), shape: "huge" as "tiny", seed: 1 }),
    ).rejects.toThrow(/unknown test model shape/);
  });

  test("external data: weights in model.onnx_data at aligned offsets, same logits", async () => {
    expect(external.externalData).toBe(true);
    const model = onnx.ModelProto.decode(readFileSync(join(external.dir, MODEL_FILE)));
    const dataBytes = statSync(join(external.dir, MODEL_DATA_FILE)).size;
    expect(statSync(join(external.dir, MODEL_FILE)).size).toBeLessThan(200_000);
    const stored = (model.graph?.initializer ?? []).filter((t) => t.dataLocation === 1);
    expect(stored.map((t) => t.name).sort()).toEqual([...weights.keys()].sort());
    const data = readFileSync(join(external.dir, MODEL_DATA_FILE));
    for (const tensor of stored) {
      const entry = Object.fromEntries((tensor.externalData ?? []).map((e) => [e.key, e.value]));
      const offset = Number(entry.offset);
      const length = Number(entry.length);
      expect(entry.location).toBe("model.onnx_data");
      expect(offset % 4096).toBe(0);
      expect(offset + length).toBeLessThanOrEqual(dataBytes);
      const expected = weights.get(tensor.name as string) as Float32Array;
      expect(data.subarray(offset, offset + length).equals(Buffer.from(expected.buffer))).toBe(
        true,
      );
    }
    const config = JSON.parse(readFileSync(join(external.dir, "config.json"), "utf8"));
    expect(config["transformers.js_config"]).toEqual({
      use_external_data_format: { "model.onnx": 1 },
    });

    const externalSession = await ort.InferenceSession.create(join(external.dir, MODEL_FILE));
    const prompt = leftPadded([randomTokens(8, 5), randomTokens(9, 3)]);
    const a = floats(await run(externalSession, prompt, emptyPast(2)), "logits");
    const b = floats(await run(session, prompt, emptyPast(2)), "logits");
    expect(relativeError(a, b)).toBe(0);
    await externalSession.release();
  });
});

describe("transformers.js loads the folder", () => {
  test("tokenizer offline: Hello is one known id", async () => {
    env.allowRemoteModels = false;
    const tokenizer = await AutoTokenizer.from_pretrained(tiny.dir);
    expect(tokenizer.encode("Hello")).toEqual([9707]);
  });

  test.each([
    ["inline weights", () => tiny.dir],
    ["external data", () => external.dir],
  ])(
    "as a causal LM (%s): greedy generate matches greedy decoding on the raw session",
    async (_, dir) => {
      env.allowRemoteModels = false;
      const tokenizer = await AutoTokenizer.from_pretrained(dir());
      const model = await AutoModelForCausalLM.from_pretrained(dir(), {
        dtype: "fp32",
        device: "cpu",
        local_files_only: true,
      });
      tokenizer.padding_side = "left";
      const texts = ["Hello world, how are you", "Hi"];
      const inputs = tokenizer(texts, { padding: true });
      const generated = (await model.generate({
        ...inputs,
        max_new_tokens: 4,
        do_sample: false,
      })) as Tensor;
      const rows = generated.tolist() as bigint[][];
      const promptIds = (inputs.input_ids as Tensor).tolist() as bigint[][];
      const width = promptIds[0]?.length ?? 0;
      expect(generated.dims).toEqual([2, width + 4]);

      // Our own greedy loop on the same graph with the same padding conventions.
      const batch: Batch = {
        inputIds: promptIds.map((row) => row.map(Number)),
        attentionMask: ((inputs.attention_mask as Tensor).tolist() as bigint[][]).map((row) =>
          row.map(Number),
        ),
        positionIds: [],
      };
      batch.positionIds = batch.attentionMask.map(positionsFromMask);
      let outputs = await run(session, batch, emptyPast(2));
      let seq = width;
      const mine: number[][] = [[], []];
      for (let step = 0; step < 4; step++) {
        const next = [0, 1].map((b) => argmax(lastLogits(floats(outputs, "logits"), b, seq)));
        for (const [b, row] of batch.attentionMask.entries()) {
          row.push(1);
          mine[b]?.push(next[b] as number);
        }
        const positions = batch.attentionMask.map((row) => positionsFromMask(row).slice(-1));
        outputs = await run(
          session,
          {
            inputIds: next.map((t) => [t]),
            attentionMask: batch.attentionMask,
            positionIds: positions,
          },
          pastFromPresent(outputs),
        );
        seq = 1;
      }
      expect(rows.map((row) => row.slice(width).map(Number))).toEqual(mine);
      await model.dispose();
    },
  );
});

describe("parameter count from config.json", () => {
  test("equals the test models' real parameter counts", async () => {
    const { parameterCountFromConfig } = await import("../../src/inference/model-size.js");
    const { qwen3Config, parameterCount, resolveShape } = await import(
      "../../src/inference/testmodel/index.js"
    );
    for (const name of ["tiny", "qwen3-0.6b"] as const) {
      const config = qwen3Config(resolveShape(name), { shape: name, seed: 0 }, false) as Record<
        string,
        unknown
      >;
      expect(parameterCountFromConfig(config)).toBe(parameterCount(resolveShape(name)));
    }
    expect(parameterCountFromConfig({ hidden_size: 8 })).toBeNull();
  });
});
