/**
 * Loading a model for generation: resolve the folder (local or hub cache), augment its graph
 * (cached), open a session on the chosen device, load the tokenizer, read EOS / pad ids.
 */
import type { PreTrainedTokenizer } from "@huggingface/transformers";
import { InputError } from "../errors.js";
import { Decoder, type DecoderShape } from "./decoder.js";
import { augmentedGraph, augmentedGraphReport } from "./graph/cache.js";
import { type Dtype, type ResolvedModel, resolveModel } from "./model/index.js";
import { parameterCountFromConfig } from "./model-size.js";
import { createSession, type Device, type ResolvedDevice } from "./session.js";
import { loadTokenizer } from "./tokenizer.js";

export interface LoadModelOptions {
  dtype: Dtype;
  device: Device;
  deviceId?: number;
  threads?: number;
  /** Candidates per position the graph returns (the k of DeepConf's confidence). */
  topk: number;
  cacheDir: string;
  offline?: boolean;
  onProgress?: (file: string, done: number, total: number) => void;
}

export interface LoadedModel {
  name: string;
  dir: string;
  /** Parameters counted from config.json (Llama/Qwen family), or null. */
  parameters: number | null;
  /** Where the files came from, for run manifests. */
  source: {
    kind: "local" | "hub";
    repo?: string;
    revision?: string;
    sha?: string;
    fileHash: string;
    dtype: Dtype;
  };
  decoder: Decoder;
  tokenizer: PreTrainedTokenizer;
  device: ResolvedDevice;
  notes: string[];
  eosTokenIds: Set<number>;
  padTokenId: number;
  generationConfig: Record<string, unknown>;
}

function ids(value: unknown): number[] {
  if (typeof value === "number") return [value];
  return Array.isArray(value) ? value.filter((v): v is number => typeof v === "number") : [];
}

function positiveInt(config: Record<string, unknown>, key: string): number {
  const value = config[key];
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new InputError(
      `config.json: ${key} must be a positive integer, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

export async function loadModel(spec: string, options: LoadModelOptions): Promise<LoadedModel> {
  const resolved = await resolveModel(spec, {
    dtype: options.dtype,
    cacheDir: options.cacheDir,
    offline: options.offline,
    onProgress: options.onProgress,
  });
  return loadResolvedModel(spec, resolved, options);
}

/** loadModel for a model already resolved (e.g. to read its generation config first). */
export async function loadResolvedModel(
  spec: string,
  resolved: ResolvedModel,
  options: LoadModelOptions,
): Promise<LoadedModel> {
  const config = resolved.config as Record<string, unknown>;
  const generationConfig = (resolved.generationConfig ?? {}) as Record<string, unknown>;
  const graph = await augmentedGraph(resolved.onnxPath, {
    topk: options.topk,
    cacheDir: options.cacheDir,
    sourceHash: resolved.fileHash,
  });
  const { session, device, notes } = await createSession(graph, options);
  const report = await augmentedGraphReport(graph);
  if (report && report.copiedEveryStep > 0) {
    notes.push(
      `this graph's attention reads ${report.copiedEveryStep} of its ${report.pastInputs} KV cache tensors ` +
        "through ops the in-place rewrite does not handle (e.g. a repeat_kv Expand): the graph copies " +
        "them every step, which is correct but slower",
    );
  }
  const heads = positiveInt(config, "num_attention_heads");
  const kvInput = session.inputMetadata.find((m) => m.name === "past_key_values.0.key");
  const shape: DecoderShape = {
    layers: positiveInt(config, "num_hidden_layers"),
    kvHeads:
      config.num_key_value_heads === undefined ? heads : positiveInt(config, "num_key_value_heads"),
    headDim:
      config.head_dim === undefined
        ? positiveInt(config, "hidden_size") / heads
        : positiveInt(config, "head_dim"),
    kvType: kvInput?.isTensor && kvInput.type === "float16" ? "float16" : "float32",
    // Unknown (a graph cached before the report existed) counts as the larger.
    kvCopiesPerStep: report && report.copiedEveryStep === 0 ? 1 : 2,
    topk: options.topk,
  };
  const eos = new Set([...ids(generationConfig.eos_token_id), ...ids(config.eos_token_id)]);
  if (eos.size === 0)
    throw new InputError(
      `${resolved.dir}: neither generation_config.json nor config.json names an eos_token_id`,
    );
  return {
    name: spec,
    dir: resolved.dir,
    parameters: parameterCountFromConfig(config),
    source: {
      kind: resolved.source,
      repo: resolved.repo,
      revision: resolved.revision,
      sha: resolved.sha,
      fileHash: resolved.fileHash,
      dtype: options.dtype,
    },
    decoder: new Decoder(session, shape),
    tokenizer: await loadTokenizer(resolved.dir),
    device,
    notes: [...resolved.notes, ...notes],
    eosTokenIds: eos,
    padTokenId:
      ids(generationConfig.pad_token_id)[0] ??
      ids(config.pad_token_id)[0] ??
      ([...eos][0] as number),
    generationConfig,
  };
}
