/**
 * Batched decoding of many sampled traces on an augmented decoder graph (top-k outputs).
 *
 * - Prefill once per prompt (prompts of different lengths are left-padded into one batch), then
 *   tile each prompt's KV cache to its traces: the prompt is never recomputed per trace.
 * - Decode all live traces together, one token per step; a per-step callback sees each trace's
 *   top-k log-probs and may stop it (DeepConf's monitor plugs in here).
 * - Finished and stopped rows are cut out of every KV tensor (compaction), so they stop costing
 *   compute at once.
 */
import { totalmem } from "node:os";
import * as ort from "onnxruntime-node";
import { InputError } from "../errors.js";
import { TOPK_IDS, TOPK_LOGPROBS } from "./graph/augment.js";
import { type Random, type SamplingOptions, sampleIndex, traceRandom } from "./sampling.js";

export interface DecoderShape {
  layers: number;
  kvHeads: number;
  headDim: number;
  /** KV cache element type of the graph (fp16 models use float16). */
  kvType: "float32" | "float16";
  /** Candidates per position that the augmented graph returns. */
  topk: number;
}

export interface GenerationRequest {
  /** Prompt token ids (chat template already applied). */
  inputIds: readonly number[];
  /** Traces to sample from this prompt. */
  traces: number;
  /** Trace t samples with traceRandom(seed, firstTrace + t): same seed, same tokens. */
  seed: number;
  /** Index of this request's first trace, when an instance's traces come in several rounds. */
  firstTrace?: number;
}

export type FinishReason = "eos" | "length" | "stopped";

/** One generated position of one trace, as the step callback sees it. */
export interface TraceStep {
  request: number;
  trace: number;
  /** 0-based index of the generated token within its trace. */
  position: number;
  tokenId: number;
  /** The position's top-k raw log-probs (descending), valid only during the callback. */
  logprobs: Float32Array;
}

/** Return true to stop this trace after the current token. */
export type StepCallback = (step: TraceStep) => boolean | undefined;

export interface GenerationOptions {
  sampling: SamplingOptions;
  maxNewTokens: number;
  eosTokenIds: ReadonlySet<number>;
  padTokenId: number;
  onStep?: StepCallback;
}

export interface GeneratedTrace {
  request: number;
  trace: number;
  tokenIds: number[];
  finishReason: FinishReason;
}

export interface GenerationTiming {
  prefillMs: number;
  decodeMs: number;
  steps: number;
  /** Time spent in JavaScript (sampling, callbacks, KV bookkeeping) during decode. */
  engineMs: number;
}

export interface GenerationResult {
  traces: GeneratedTrace[];
  timing: GenerationTiming;
}

interface Row {
  request: number;
  trace: number;
  random: Random;
  /** Left padding of this row's prompt. */
  pad: number;
  tokenIds: number[];
}

type KvArray = Float32Array | Uint16Array;
const now = () => performance.now();
/** Spare positions allocated with a KV buffer, so buffers are replaced every 64 steps only. */
const KV_SLACK = 64;

/**
 * Two reusable buffers per KV tensor: each step onnxruntime writes the presents into the slot the
 * previous step did not use (pre-allocated outputs), and they become the next step's pasts. A
 * fresh output allocation per step would page-fault and garbage-collect the whole KV cache
 * (hundreds of MB for a 0.6B model) on every token.
 */
class KvSlots {
  private readonly buffers: Array<ArrayBuffer | null> = [null, null];

  constructor(private readonly make: (elements: number) => KvArray) {}

  /** A view of `elements` values in `slot`, growing the slot (with slack) when too small. */
  view(slot: number, elements: number, slackElements: number): KvArray {
    const sample = this.make(0);
    const bytes = elements * sample.BYTES_PER_ELEMENT;
    let buffer = this.buffers[slot];
    if (!buffer || buffer.byteLength < bytes) {
      buffer = this.make(elements + slackElements).buffer as ArrayBuffer;
      this.buffers[slot] = buffer;
    }
    return new (sample.constructor as { new (b: ArrayBuffer, o: number, n: number): KvArray })(
      buffer,
      0,
      elements,
    );
  }
}

/** Copies rows `sources` of a [B, ...] tensor (rowSize elements each) into `out`, in order. */
function copyRows(data: KvArray, out: KvArray, rowSize: number, sources: readonly number[]): void {
  sources.forEach((source, target) => {
    out.set(data.subarray(source * rowSize, (source + 1) * rowSize), target * rowSize);
  });
}

export class Decoder {
  constructor(
    readonly session: ort.InferenceSession,
    readonly shape: DecoderShape,
  ) {}

  async generate(
    requests: readonly GenerationRequest[],
    options: GenerationOptions,
  ): Promise<GenerationResult> {
    const { layers, kvHeads, headDim } = this.shape;
    const finished: GeneratedTrace[] = [];
    const timing: GenerationTiming = { prefillMs: 0, decodeMs: 0, steps: 0, engineMs: 0 };
    if (requests.length === 0) return { traces: finished, timing };
    this.checkMemory(requests, options.maxNewTokens);

    // Prefill: all prompts in one left-padded batch with an empty past.
    let start = now();
    const length = Math.max(...requests.map((r) => r.inputIds.length));
    const pads = requests.map((r) => length - r.inputIds.length);
    const ids = new BigInt64Array(requests.length * length).fill(BigInt(options.padTokenId));
    const mask = new BigInt64Array(requests.length * length);
    const positions = new BigInt64Array(requests.length * length);
    requests.forEach((request, r) => {
      const pad = pads[r] as number;
      request.inputIds.forEach((id, i) => {
        ids[r * length + pad + i] = BigInt(id);
        mask[r * length + pad + i] = 1n;
        positions[r * length + pad + i] = BigInt(i);
      });
    });
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor("int64", ids, [requests.length, length]),
      attention_mask: new ort.Tensor("int64", mask, [requests.length, length]),
      position_ids: new ort.Tensor("int64", positions, [requests.length, length]),
    };
    const emptyPast = this.kvTensor(this.kvArray(0), requests.length, 0);
    for (let i = 0; i < layers; i++) {
      feeds[`past_key_values.${i}.key`] = emptyPast;
      feeds[`past_key_values.${i}.value`] = emptyPast;
    }
    const prefill = await this.session.run(feeds);
    timing.prefillMs = now() - start;

    // First token of every trace, sampled from its prompt's distribution.
    start = now();
    let rows: Row[] = [];
    const sources: number[] = [];
    const prefillLogprobs = prefill[TOPK_LOGPROBS]?.data as Float32Array;
    const prefillIds = prefill[TOPK_IDS]?.data as BigInt64Array;
    requests.forEach((request, r) => {
      for (let t = 0; t < request.traces; t++) {
        const row: Row = {
          request: r,
          trace: t,
          random: traceRandom(request.seed, (request.firstTrace ?? 0) + t),
          pad: pads[r] as number,
          tokenIds: [],
        };
        if (this.advance(row, prefillLogprobs, prefillIds, r, options, finished)) {
          rows.push(row);
          sources.push(r);
        }
      }
    });
    // Tile each prompt's KV cache to its live traces, into slot 0 of reusable buffers.
    const slots = Array.from({ length: 2 * layers }, () => new KvSlots((n) => this.kvArray(n)));
    const rowElements = (positions: number) => kvHeads * positions * headDim;
    let past: KvArray[] = [];
    for (let i = 0; i < layers; i++) {
      ["key", "value"].forEach((kind, j) => {
        const present = prefill[`present.${i}.${kind}`]?.data as KvArray;
        const view = (slots[2 * i + j] as KvSlots).view(
          0,
          sources.length * rowElements(length),
          sources.length * rowElements(KV_SLACK),
        );
        copyRows(present, view, rowElements(length), sources);
        past.push(view);
      });
    }
    let slot = 0;
    let total = length;
    let engineMs = now() - start;
    start = now();

    while (rows.length > 0) {
      const stepStart = now();
      const batch = rows.length;
      const stepIds = new BigInt64Array(batch);
      const stepPositions = new BigInt64Array(batch);
      const stepMask = new BigInt64Array(batch * (total + 1)).fill(1n);
      rows.forEach((row, b) => {
        stepIds[b] = BigInt(row.tokenIds[row.tokenIds.length - 1] as number);
        stepPositions[b] = BigInt(total - row.pad);
        stepMask.fill(0n, b * (total + 1), b * (total + 1) + row.pad);
      });
      const stepFeeds: Record<string, ort.Tensor> = {
        input_ids: new ort.Tensor("int64", stepIds, [batch, 1]),
        attention_mask: new ort.Tensor("int64", stepMask, [batch, total + 1]),
        position_ids: new ort.Tensor("int64", stepPositions, [batch, 1]),
      };
      for (let i = 0; i < layers; i++) {
        stepFeeds[`past_key_values.${i}.key`] = this.kvTensor(past[2 * i] as KvArray, batch, total);
        stepFeeds[`past_key_values.${i}.value`] = this.kvTensor(
          past[2 * i + 1] as KvArray,
          batch,
          total,
        );
      }
      slot = 1 - slot;
      const fetches: Record<string, ort.Tensor | null> = {
        [TOPK_LOGPROBS]: null,
        [TOPK_IDS]: null,
      };
      const presents: KvArray[] = [];
      for (let i = 0; i < layers; i++) {
        ["key", "value"].forEach((kind, j) => {
          const view = (slots[2 * i + j] as KvSlots).view(
            slot,
            batch * rowElements(total + 1),
            batch * rowElements(KV_SLACK),
          );
          presents.push(view);
          fetches[`present.${i}.${kind}`] = this.kvTensor(view, batch, total + 1);
        });
      }
      const runStart = now();
      const out = await this.session.run(stepFeeds, fetches as ort.InferenceSession.FetchesType);
      const runEnd = now();
      total += 1;
      timing.steps += 1;

      const logprobs = out[TOPK_LOGPROBS]?.data as Float32Array;
      const topIds = out[TOPK_IDS]?.data as BigInt64Array;
      const keep: number[] = [];
      rows.forEach((row, b) => {
        if (this.advance(row, logprobs, topIds, b, options, finished)) keep.push(b);
      });
      if (keep.length === batch) {
        past = presents;
      } else {
        // Compaction in place: survivors move down to fill the rows of finished traces.
        const rowSize = rowElements(total);
        past = presents.map((data) => {
          keep.forEach((source, target) => {
            if (source !== target) {
              data.copyWithin(target * rowSize, source * rowSize, (source + 1) * rowSize);
            }
          });
          return data.subarray(0, keep.length * rowSize);
        });
        rows = keep.map((b) => rows[b] as Row);
      }
      engineMs += runStart - stepStart + (now() - runEnd);
    }
    timing.decodeMs = now() - start;
    timing.engineMs = engineMs;
    finished.sort((a, b) => a.request - b.request || a.trace - b.trace);
    return { traces: finished, timing };
  }

  /**
   * Samples the row's next token from batch row `b` of the step's top-k, tells the callback,
   * and returns false (after recording the trace) when the row is finished.
   */
  private advance(
    row: Row,
    logprobs: Float32Array,
    ids: BigInt64Array,
    b: number,
    options: GenerationOptions,
    finished: GeneratedTrace[],
  ): boolean {
    const k = this.shape.topk;
    const choice = sampleIndex(logprobs, b * k, k, options.sampling, row.random);
    const tokenId = Number(ids[b * k + choice]);
    row.tokenIds.push(tokenId);
    const stop = options.onStep?.({
      request: row.request,
      trace: row.trace,
      position: row.tokenIds.length - 1,
      tokenId,
      logprobs: logprobs.subarray(b * k, (b + 1) * k),
    });
    let reason: FinishReason | null = null;
    if (stop === true) reason = "stopped";
    else if (options.eosTokenIds.has(tokenId)) reason = "eos";
    else if (row.tokenIds.length >= options.maxNewTokens) reason = "length";
    if (reason === null) return true;
    finished.push({
      request: row.request,
      trace: row.trace,
      tokenIds: row.tokenIds,
      finishReason: reason,
    });
    return false;
  }

  /**
   * Refuses a batch whose KV cache cannot fit, instead of being killed by the OOM killer
   * midway: the cache exists three times during a step (the pasts, onnxruntime's presents and
   * the copy the next step reads), each traces x layers x 2 x kv_heads x positions x head_dim.
   */
  private checkMemory(requests: readonly GenerationRequest[], maxNewTokens: number): void {
    const { layers, kvHeads, headDim, kvType } = this.shape;
    const positions = Math.max(...requests.map((r) => r.inputIds.length)) + maxNewTokens;
    const traces = requests.reduce((sum, r) => sum + r.traces, 0);
    const bytes =
      3 * traces * layers * 2 * kvHeads * positions * headDim * (kvType === "float16" ? 2 : 4);
    if (bytes > 0.8 * totalmem()) {
      const gib = (x: number) => (x / 2 ** 30).toFixed(1);
      throw new InputError(
        `${traces} traces of up to ${positions} positions need about ${gib(bytes)} GiB for the KV cache ` +
          `(3 copies during a step) on a machine with ${gib(totalmem())} GiB: sample fewer traces at once ` +
          "(--traces / --parallel), or use a shorter prompt or --max-new-tokens",
      );
    }
  }

  private kvArray(size: number): KvArray {
    return this.shape.kvType === "float16" ? new Uint16Array(size) : new Float32Array(size);
  }

  private kvTensor(data: KvArray, batch: number, length: number): ort.Tensor {
    return new ort.Tensor(this.shape.kvType, data, [
      batch,
      this.shape.kvHeads,
      length,
      this.shape.headDim,
    ]);
  }
}
