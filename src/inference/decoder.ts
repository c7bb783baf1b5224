/**
 * Batched decoding of many sampled traces on an augmented decoder graph (top-k outputs).
 *
 * - Prefill once per prompt (prompts of different lengths are left-padded into one batch), then
 *   tile each prompt's KV cache to its traces: the prompt is never recomputed per trace.
 * - Decode all live traces together, one token per step; a per-step callback sees each trace's
 *   top-k log-probs and may stop it (DeepConf's monitor plugs in here).
 * - Finished and stopped rows are cut out of every KV tensor (compaction), so they stop costing
 *   compute at once.
 * - The KV cache stays in JavaScript, written in place (see KvCache); the graph returns only
 *   each step's new positions (see graph/augment.ts), so nothing the size of the cache crosses
 *   into JavaScript per step.
 */
import { totalmem } from "node:os";
import * as ort from "onnxruntime-node";
import { InputError } from "../errors.js";
import { newKvOutputName, pastInputName, TOPK_IDS, TOPK_LOGPROBS } from "./graph/augment.js";
import { type Random, type SamplingOptions, sampleIndex, traceRandom } from "./sampling.js";

export interface DecoderShape {
  layers: number;
  kvHeads: number;
  headDim: number;
  /** KV cache element type of the graph (fp16 models use float16). */
  kvType: "float32" | "float16";
  /** Candidates per position that the augmented graph returns. */
  topk: number;
  /**
   * Copies of the KV cache alive during a step: ours, plus the graph's Concat(past, new) where
   * the in-place attention rewrite could not remove it (graph/split-attention.ts).
   */
  kvCopiesPerStep: 1 | 2;
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
const KINDS = ["key", "value"] as const;

/**
 * One layer's key or value cache, [B, kv_heads, capacity, head_dim], fed to the graph whole
 * every step: slots past `length` are free and masked out (attention_mask 0), so a step's new
 * position is written into its slot in place and the cache is not copied per step. The
 * capacity grows in steps of CAPACITY_GROWTH positions, re-laid out in place, so masked slots
 * cost little attention.
 */
class KvCache {
  /** Positions held (prompt padding included). */
  length = 0;

  constructor(
    readonly data: KvArray,
    /** Rows (live traces). */
    public batch: number,
    readonly heads: number,
    readonly headDim: number,
    /** Positions per (row, head). */
    public capacity: number,
  ) {}

  /** The whole cache, free slots included: the next step's past. */
  view(): KvArray {
    return this.data.subarray(0, this.batch * this.heads * this.capacity * this.headDim);
  }

  /**
   * Fills the first `positions` slots from the prompts' caches ([prompts, kv_heads, positions,
   * head_dim]), row `target` taking prompt `sources[target]`.
   */
  tile(prompts: KvArray, positions: number, sources: readonly number[]): void {
    const { heads, headDim, capacity } = this;
    const block = positions * headDim;
    sources.forEach((source, target) => {
      for (let h = 0; h < heads; h++) {
        const from = (source * heads + h) * block;
        this.data.set(
          prompts.subarray(from, from + block),
          (target * heads + h) * capacity * headDim,
        );
      }
    });
    this.length = positions;
  }

  /** Writes a step's new position ([batch, kv_heads, 1, head_dim]) into slot `length`. */
  append(positions: KvArray): void {
    const { data, headDim, capacity, length } = this;
    // An element loop: a subarray per (row, head) would allocate thousands of views a step.
    for (let row = 0; row < this.batch * this.heads; row++) {
      const from = row * headDim;
      const to = (row * capacity + length) * headDim;
      for (let d = 0; d < headDim; d++) data[to + d] = positions[from + d] as number;
    }
    this.length += 1;
  }

  /**
   * Re-lays the cache out with a larger capacity, last (row, head) first: rows only move up,
   * so nothing is overwritten before it is read.
   */
  grow(capacity: number): void {
    const { headDim, length } = this;
    for (let row = this.batch * this.heads - 1; row >= 0; row--) {
      const from = row * this.capacity * headDim;
      this.data.copyWithin(row * capacity * headDim, from, from + length * headDim);
    }
    this.capacity = capacity;
  }

  /** Keeps rows `keep` (ascending), in place: a row only ever moves down. */
  compact(keep: readonly number[]): void {
    const size = this.heads * this.capacity * this.headDim;
    keep.forEach((source, target) => {
      if (source !== target)
        this.data.copyWithin(target * size, source * size, (source + 1) * size);
    });
    this.batch = keep.length;
  }
}

/** Cache buffers are sized in steps of this many positions, so similar prompts reuse them. */
const CAPACITY_STEP = 128;
/**
 * Free slots added at a time. A re-layout copies the whole cache (~165 ms for Qwen3-0.6B x 8
 * traces x 300 positions) and each masked slot costs attention (~0.035 ms a step there); 64
 * about minimises the sum of the two.
 */
const CAPACITY_GROWTH = 64;

export class Decoder {
  /**
   * The last generation's cache buffers, reused by the next one when big enough: a run calls
   * generate() once per instance (or round of traces), and fresh buffers would page-fault and
   * garbage-collect the whole cache (hundreds of MB for a 0.6B model) every time.
   */
  private spare: KvArray[] = [];
  private busy = false;

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
      for (const kind of KINDS) feeds[pastInputName(i, kind)] = emptyPast;
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
    // Each prompt's cache tiled to its live traces, in buffers that can hold the whole
    // generation (the last sampled token is never fed back, hence - 1).
    const positionsNeeded = length + options.maxNewTokens - 1;
    const capacityFor = (held: number) => Math.min(positionsNeeded, held + CAPACITY_GROWTH);
    const buffers = this.takeBuffers(sources.length * kvHeads * headDim, positionsNeeded);
    const caches = buffers.map((buffer, n) => {
      const cache = new KvCache(buffer, sources.length, kvHeads, headDim, capacityFor(length));
      const kind = KINDS[n % 2] as (typeof KINDS)[number];
      cache.tile(
        prefill[newKvOutputName(Math.floor(n / 2), kind)]?.data as KvArray,
        length,
        sources,
      );
      return cache;
    });
    let engineMs = now() - start;
    start = now();

    try {
      while (rows.length > 0) {
        const stepStart = now();
        const batch = rows.length;
        // Positions held so far, the same in every layer's cache.
        const total = (caches[0] as KvCache).length;
        if (total === (caches[0] as KvCache).capacity) {
          for (const cache of caches) cache.grow(capacityFor(total));
        }
        const capacity = (caches[0] as KvCache).capacity;
        const stepIds = new BigInt64Array(batch);
        const stepPositions = new BigInt64Array(batch);
        // Per row: padding 0, held positions 1, free slots 0, the new token 1.
        const stepMask = new BigInt64Array(batch * (capacity + 1));
        rows.forEach((row, b) => {
          stepIds[b] = BigInt(row.tokenIds[row.tokenIds.length - 1] as number);
          stepPositions[b] = BigInt(total - row.pad);
          const base = b * (capacity + 1);
          stepMask.fill(1n, base + row.pad, base + total);
          stepMask[base + capacity] = 1n;
        });
        const stepFeeds: Record<string, ort.Tensor> = {
          input_ids: new ort.Tensor("int64", stepIds, [batch, 1]),
          attention_mask: new ort.Tensor("int64", stepMask, [batch, capacity + 1]),
          position_ids: new ort.Tensor("int64", stepPositions, [batch, 1]),
        };
        for (let i = 0; i < layers; i++) {
          KINDS.forEach((kind, j) => {
            const cache = caches[2 * i + j] as KvCache;
            stepFeeds[pastInputName(i, kind)] = this.kvTensor(cache.view(), batch, capacity);
          });
        }
        const runStart = now();
        const out = await this.session.run(stepFeeds);
        const runEnd = now();
        for (let i = 0; i < layers; i++) {
          KINDS.forEach((kind, j) => {
            (caches[2 * i + j] as KvCache).append(out[newKvOutputName(i, kind)]?.data as KvArray);
          });
        }
        timing.steps += 1;

        const logprobs = out[TOPK_LOGPROBS]?.data as Float32Array;
        const topIds = out[TOPK_IDS]?.data as BigInt64Array;
        const keep: number[] = [];
        rows.forEach((row, b) => {
          if (this.advance(row, logprobs, topIds, b, options, finished)) keep.push(b);
        });
        if (keep.length < batch) {
          // Finished rows leave the cache at once, so they stop costing compute.
          if (keep.length > 0) for (const cache of caches) cache.compact(keep);
          rows = keep.map((b) => rows[b] as Row);
        }
        engineMs += runStart - stepStart + (now() - runEnd);
      }
    } finally {
      this.giveBack(buffers);
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
   * midway: each copy alive during a step (ours, and the graph's concatenation where it keeps
   * one) is traces x layers x 2 x kv_heads x positions x head_dim.
   */
  private checkMemory(requests: readonly GenerationRequest[], maxNewTokens: number): void {
    const { layers, kvHeads, headDim, kvType, kvCopiesPerStep: copies } = this.shape;
    const positions = Math.max(...requests.map((r) => r.inputIds.length)) + maxNewTokens;
    const traces = requests.reduce((sum, r) => sum + r.traces, 0);
    const bytes =
      copies * traces * layers * 2 * kvHeads * positions * headDim * (kvType === "float16" ? 2 : 4);
    if (bytes > 0.8 * totalmem()) {
      const gib = (x: number) => (x / 2 ** 30).toFixed(1);
      throw new InputError(
        `${traces} traces of up to ${positions} positions need about ${gib(bytes)} GiB for the KV cache ` +
          `(${copies === 1 ? "1 copy" : `${copies} copies`} during a step) on a machine with ${gib(totalmem())} GiB: sample fewer traces at once ` +
          "(--traces / --parallel), or use a shorter prompt or --max-new-tokens",
      );
    }
  }

  /**
   * 2 x layers cache buffers of at least `positions` x `rowElements` values: the spare ones when
   * big enough, otherwise new ones rounded up to CAPACITY_STEP positions. A concurrent call
   * gets its own.
   */
  private takeBuffers(rowElements: number, positions: number): KvArray[] {
    const elements = rowElements * Math.ceil(positions / CAPACITY_STEP) * CAPACITY_STEP;
    if (this.busy) return this.newBuffers(elements);
    this.busy = true;
    if (this.spare.length === 0 || (this.spare[0] as KvArray).length < rowElements * positions) {
      this.spare = []; // let the old ones be collected before the new ones are touched
      this.spare = this.newBuffers(elements);
    }
    return this.spare;
  }

  private giveBack(buffers: KvArray[]): void {
    if (buffers === this.spare) this.busy = false;
  }

  private newBuffers(elements: number): KvArray[] {
    return Array.from({ length: 2 * this.shape.layers }, () => this.kvArray(elements));
  }

  private kvArray(size: number): KvArray {
    return this.shape.kvType === "float16" ? new Uint16Array(size) : new Float32Array(size);
  }

  private kvTensor(data: KvArray, batch: number, positions: number): ort.Tensor {
    return new ort.Tensor(this.shape.kvType, data, [
      batch,
      this.shape.kvHeads,
      positions,
      this.shape.headDim,
    ]);
  }
}
