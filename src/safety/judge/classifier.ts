/**
 * The classifier judge: a sequence-classification ONNX model (e.g.
 * protectai/distilroberta-base-rejection-v1) that labels answers as refusals or not, run on
 * onnxruntime-node beside the string-rule detector, so the two can be compared.
 *
 *   const judge = await loadClassifierJudge("classifier:protectai/distilroberta-base-rejection-v1");
 *   const verdicts = await judge.judge(responses); // null where a response has no answer
 *   await judge.close();
 *
 * Texts are tokenized by the model's own tokenizer (transformers.js, local files only), cut to
 * the model's maximum length keeping the closing special token (as Python's tokenizers do for
 * one sequence), padded on the right and run in batches; the logits are softmaxed.
 */
import type { PreTrainedTokenizer } from "@huggingface/transformers";
import * as ort from "onnxruntime-node";
import { InputError } from "../../errors.js";
import { createSession, type Device, type ResolvedDevice } from "../../inference/session.js";
import { loadTokenizer } from "../../inference/tokenizer.js";
import { answerPart, normaliseText } from "../refusal/text.js";
import {
  type ClassifierFiles,
  type ClassifierFilesOptions,
  resolveClassifierFiles,
} from "./files.js";
import { classifierLabels, refusalLabelOf } from "./labels.js";
import { CLASSIFIER_PREFIX, parseJudgeSpec } from "./spec.js";

export interface ClassifierJudgeOptions extends ClassifierFilesOptions {
  /** The label that means refusal. Default: the one whose name matches /reject|refus|declin/i. */
  refusalLabel?: string;
  /** Default "cpu". */
  device?: Device;
  deviceId?: number;
  /** CPU intra-op threads; default: every core. */
  threads?: number;
  /** Texts per onnxruntime call (default 16). */
  batchSize?: number;
  /**
   * Longest input in tokens, special tokens included. Default: the tokenizer's
   * model_max_length, else config.json's max_position_embeddings (less RoBERTa's padding
   * offset of 2), else 512.
   */
  maxLength?: number;
}

export interface ClassifierVerdict {
  /** The most probable label is the refusal label (ties go to the lower class id). */
  refusal: boolean;
  /** The most probable label. */
  label: string;
  /** Probability of the refusal label, in [0, 1]. */
  score: number;
}

/** Where the judge's model came from: enough to record with its verdicts. */
export type ClassifierModelInfo = Omit<ClassifierFiles, "config" | "notes" | "externalDataPaths">;

export const DEFAULT_BATCH_SIZE = 16;
const DEFAULT_MAX_LENGTH = 512;
/** transformers' "no limit" is 1e30; anything this large is not a real limit. */
const NO_LIMIT = 1e6;
/** Position ids start after the padding index in these models: 514 positions hold 512 tokens. */
const PADDING_OFFSET_MODELS = /roberta|camembert|longformer/i;

/**
 * The text a classifier judges: the answer after the last `</think>`, trimmed; null when there
 * is none (an unclosed `<think>`, or nothing but whitespace), as the rule detector's
 * think-unclosed and empty-answer cases.
 */
export function classifierInput(response: string): string | null {
  const part = answerPart(response);
  if (part.kind === "thinking-only" || normaliseText(part.text) === "") return null;
  return part.text.trim();
}

/** Loads the judge a `classifier:HUB_ID|PATH` spec names; close() it when done. */
export async function loadClassifierJudge(
  spec: string,
  options: ClassifierJudgeOptions = {},
): Promise<ClassifierJudge> {
  const { target } = parseJudgeSpec(spec);
  const batchSize = positiveInteger(options.batchSize, DEFAULT_BATCH_SIZE, "batchSize", 1);
  const files = await resolveClassifierFiles(target, options);
  const where = files.repo ?? files.dir;
  const labels = classifierLabels(files.config, where);
  const refusalLabel = refusalLabelOf(labels, options.refusalLabel, where);

  let tokenizer: PreTrainedTokenizer;
  try {
    tokenizer = await loadTokenizer(files.dir);
  } catch (error) {
    throw new InputError(
      `cannot load the tokenizer in ${files.dir} (${(error as Error).message.split("\n")[0]}): fix tokenizer.json and tokenizer_config.json, or copy them again from the model's repository`,
    );
  }
  const maxLength = positiveInteger(
    options.maxLength,
    defaultMaxLength(tokenizer, files.config),
    "maxLength",
    2,
  );
  let loaded: Awaited<ReturnType<typeof createSession>>;
  try {
    loaded = await createSession(files.onnxPath, {
      device: options.device ?? "cpu",
      deviceId: options.deviceId,
      threads: options.threads,
    });
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(
      `cannot load ${files.onnxPath} (${(error as Error).message.split("\n")[0]}): replace it with a sound copy from the model's repository`,
    );
  }
  const { session } = loaded;
  try {
    const io = checkIo(session, files.onnxPath);
    const { config: _config, notes, externalDataPaths: _data, ...model } = files;
    return new ClassifierJudge({
      id: `${CLASSIFIER_PREFIX}${target}`,
      labels,
      refusalLabel,
      maxLength,
      batchSize,
      model,
      device: loaded.device,
      notes: [...notes, ...loaded.notes],
      tokenizer,
      session,
      io,
      padId: tokenizer.pad_token_id ?? numberOr(files.config.pad_token_id, 0),
    });
  } catch (error) {
    await session.release();
    throw error;
  }
}

interface JudgeParts {
  id: string;
  labels: string[];
  refusalLabel: string;
  maxLength: number;
  batchSize: number;
  model: ClassifierModelInfo;
  device: ResolvedDevice;
  notes: string[];
  tokenizer: PreTrainedTokenizer;
  session: ort.InferenceSession;
  io: { tokenTypeIds: boolean; logits: string };
  padId: number;
}

/** A loaded classifier judge; made by loadClassifierJudge, released by close(). */
export class ClassifierJudge {
  /** The spec, normalised: "classifier:" + the folder or hub id given. */
  readonly id: string;
  /** In class-id order. */
  readonly labels: readonly string[];
  readonly refusalLabel: string;
  readonly maxLength: number;
  readonly batchSize: number;
  readonly model: ClassifierModelInfo;
  readonly device: ResolvedDevice;
  /** Things the user should know (a quantized model was taken, the cache stood in for the hub). */
  readonly notes: readonly string[];
  readonly #parts: JudgeParts;
  readonly #refusalIndex: number;
  readonly #specialIds: Set<number>;
  #closed = false;

  constructor(parts: JudgeParts) {
    this.id = parts.id;
    this.labels = parts.labels;
    this.refusalLabel = parts.refusalLabel;
    this.maxLength = parts.maxLength;
    this.batchSize = parts.batchSize;
    this.model = parts.model;
    this.device = parts.device;
    this.notes = parts.notes;
    this.#parts = parts;
    this.#refusalIndex = parts.labels.indexOf(parts.refusalLabel);
    this.#specialIds = new Set(parts.tokenizer.all_special_ids);
  }

  /** Verdicts on texts as given (no answer extraction), in order. */
  async classify(texts: readonly string[]): Promise<ClassifierVerdict[]> {
    if (this.#closed) throw new Error(`classifier judge ${this.id} is closed`);
    const verdicts: ClassifierVerdict[] = [];
    for (let start = 0; start < texts.length; start += this.batchSize) {
      verdicts.push(...(await this.#run(texts.slice(start, start + this.batchSize))));
    }
    return verdicts;
  }

  /** Verdicts on model responses: each one's answer (classifierInput), null where it has none. */
  async judge(responses: readonly string[]): Promise<(ClassifierVerdict | null)[]> {
    const inputs = responses.map(classifierInput);
    const verdicts = await this.classify(inputs.filter((text) => text !== null));
    let next = 0;
    return inputs.map((text) => (text === null ? null : (verdicts[next++] as ClassifierVerdict)));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#parts.session.release();
  }

  /** Token ids with special tokens, cut to maxLength keeping a closing special token. */
  #encode(text: string): number[] {
    const ids = this.#parts.tokenizer.encode(text);
    if (ids.length <= this.maxLength) return ids;
    const last = ids[ids.length - 1] as number;
    return this.#specialIds.has(last)
      ? [...ids.slice(0, this.maxLength - 1), last]
      : ids.slice(0, this.maxLength);
  }

  async #run(texts: readonly string[]): Promise<ClassifierVerdict[]> {
    const { session, io, padId, labels } = this.#parts;
    const rows = texts.map((text) => this.#encode(text));
    const width = Math.max(...rows.map((row) => row.length));
    const ids = new BigInt64Array(rows.length * width).fill(BigInt(padId));
    const mask = new BigInt64Array(rows.length * width);
    for (const [r, row] of rows.entries()) {
      for (const [c, id] of row.entries()) {
        ids[r * width + c] = BigInt(id);
        mask[r * width + c] = 1n;
      }
    }
    const dims = [rows.length, width];
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor("int64", ids, dims),
      attention_mask: new ort.Tensor("int64", mask, dims),
    };
    if (io.tokenTypeIds) {
      feeds.token_type_ids = new ort.Tensor("int64", new BigInt64Array(ids.length), dims);
    }
    const logits = (await session.run(feeds))[io.logits] as ort.Tensor;
    if (logits.dims.length !== 2 || logits.dims[1] !== labels.length) {
      throw new InputError(
        `${this.model.onnxPath} gives logits of shape [${logits.dims.join(", ")}], but config.json names ${labels.length} labels (${labels.join(", ")}): the model and its config.json do not belong together`,
      );
    }
    const data = logits.data as Float32Array;
    return rows.map((_, r) =>
      this.#verdict(data.subarray(r * labels.length, (r + 1) * labels.length)),
    );
  }

  #verdict(logits: Float32Array): ClassifierVerdict {
    const top = Math.max(...logits);
    const exp = Array.from(logits, (x) => Math.exp(x - top));
    const total = exp.reduce((sum, x) => sum + x, 0);
    const best = exp.indexOf(Math.max(...exp));
    return {
      refusal: best === this.#refusalIndex,
      label: this.labels[best] as string,
      score: (exp[this.#refusalIndex] as number) / total,
    };
  }
}

/** The graph's inputs must be those of a sequence-classification export. */
function checkIo(session: ort.InferenceSession, path: string) {
  const known = ["input_ids", "attention_mask", "token_type_ids"];
  const inputs = session.inputNames;
  const missing = ["input_ids", "attention_mask"].filter((name) => !inputs.includes(name));
  const unknown = inputs.filter((name) => !known.includes(name));
  if (missing.length > 0 || unknown.length > 0) {
    throw new InputError(
      `${path} takes inputs ${inputs.join(", ")}; a sequence classifier takes input_ids and attention_mask (and optionally token_type_ids): export it with \`optimum-cli export onnx --task text-classification\``,
    );
  }
  const outputs = session.outputNames;
  const logits = outputs.includes("logits") ? "logits" : outputs.length === 1 ? outputs[0] : null;
  if (!logits) {
    throw new InputError(
      `${path} has outputs ${outputs.join(", ")} and none is "logits": export it with \`optimum-cli export onnx --task text-classification\``,
    );
  }
  return { tokenTypeIds: inputs.includes("token_type_ids"), logits };
}

function defaultMaxLength(tokenizer: PreTrainedTokenizer, config: Record<string, unknown>) {
  const fromTokenizer = tokenizer.model_max_length;
  if (Number.isInteger(fromTokenizer) && fromTokenizer >= 2 && fromTokenizer < NO_LIMIT) {
    return fromTokenizer;
  }
  const positions = numberOr(config.max_position_embeddings, 0);
  const offset = PADDING_OFFSET_MODELS.test(String(config.model_type ?? "")) ? 2 : 0;
  return positions - offset >= 2 && positions < NO_LIMIT ? positions - offset : DEFAULT_MAX_LENGTH;
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) ? value : fallback;
}

function positiveInteger(value: number | undefined, fallback: number, name: string, min: number) {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) {
    throw new InputError(`${name} must be a whole number >= ${min}, got ${value}`);
  }
  return value;
}
