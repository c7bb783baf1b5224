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
import { freemem } from "node:os";
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
  /**
   * Rows in flight at most (continuous batching): a request waits until its traces fit among
   * the rows decoding. Unset: no limit. A request larger than this still runs, alone.
   */
  maxRows?: number;
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

/** One request being decoded: its rows come and go; it resolves when the last one ends. */
interface Submission {
  request: GenerationRequest;
  /** The request's index in its generate() call (reported in steps and traces). */
  index: number;
  options: GenerationOptions;
  live: number;
  traces: GeneratedTrace[];
  resolve: (traces: GeneratedTrace[]) => void;
  reject: (error: Error) => void;
}

interface Row {
  submission: Submission;
  trace: number;
  random: Random;
  /** Masked slots before this row's prompt: the rows of a batch share one time axis. */
  pad: number;
  tokenIds: number[];
}

type KvArray = Float32Array | Uint16Array;
const now = () => performance.now();
const KINDS = ["key", "value"] as const;

/**
 * One layer's key or value cache, [B, kv_heads, capacity, head_dim], fed to the graph whole
 * every step: slots past `length` are free and masked out (attention_mask 0), so a step's new
 * position is written into its slot in place and the cache is not copied per step. Rows join
 * right-aligned (their prompt ends at `length`, masked padding before it) and leave by
 * compaction; positions every row has as padding are trimmed off the front. The buffer is kept
 * between batches and only grows.
 */
class KvCache {
  /** Positions held (padding included), the same for every row. */
  length = 0;
  /** Rows (live traces). */
  batch = 0;
  /** Positions per (row, head). */
  capacity = 0;

  constructor(
    public data: KvArray,
    readonly heads: number,
    readonly headDim: number,
  ) {}

  private get rowSize(): number {
    return this.heads * this.capacity * this.headDim;
  }

  /** The whole cache, free slots included: the next step's past. */
  view(): KvArray {
    return this.data.subarray(0, this.batch * this.rowSize);
  }

  /**
   * Empties the cache for a new batch, keeping the buffer: a batch's layout (its capacity) then
   * never depends on what ran before it.
   */
  reset(): void {
    this.length = 0;
    this.batch = 0;
    this.capacity = 0;
  }

  /** Makes room for `rows` rows at `capacity` (re-laying out or reallocating as needed). */
  reserve(rows: number, capacity: number): void {
    const needed = rows * this.heads * Math.max(capacity, this.capacity) * this.headDim;
    if (needed > this.data.length) {
      const grown = new (this.data.constructor as new (n: number) => KvArray)(
        Math.ceil(needed * 1.25),
      );
      grown.set(this.view());
      this.data = grown;
    }
    if (capacity > this.capacity) this.grow(capacity);
  }

  /**
   * Adds `count` rows holding a prompt's cache ([1, kv_heads, positions, head_dim]) in the
   * slots just before `length`. Call reserve() first.
   */
  addRows(prompt: KvArray, positions: number, count: number): void {
    const { heads, headDim, capacity } = this;
    const block = positions * headDim;
    const offset = (this.length - positions) * headDim;
    for (let r = 0; r < count; r++) {
      const row = this.batch + r;
      for (let h = 0; h < heads; h++) {
        this.data.set(
          prompt.subarray(h * block, (h + 1) * block),
          (row * heads + h) * capacity * headDim + offset,
        );
      }
    }
    this.batch += count;
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

  /** Moves every (row, head)'s positions `by` slots later (a longer prompt joins). */
  shiftRight(by: number): void {
    const { headDim, capacity, length } = this;
    for (let row = this.batch * this.heads - 1; row >= 0; row--) {
      const from = row * capacity * headDim;
      this.data.copyWithin(from + by * headDim, from, from + length * headDim);
    }
    this.length += by;
  }

  /** Drops the first `by` positions of every (row, head): padding in every row. */
  trimLeft(by: number): void {
    const { headDim, capacity, length } = this;
    for (let row = 0; row < this.batch * this.heads; row++) {
      const from = row * capacity * headDim;
      this.data.copyWithin(from, from + by * headDim, from + length * headDim);
    }
    this.length -= by;
  }

  /**
   * Re-lays the cache out with a larger capacity, last (row, head) first: rows only move up,
   * so nothing is overwritten before it is read.
   */
  private grow(capacity: number): void {
    const { headDim, length } = this;
    for (let row = this.batch * this.heads - 1; row >= 0; row--) {
      const from = row * this.capacity * headDim;
      this.data.copyWithin(row * capacity * headDim, from, from + length * headDim);
    }
    this.capacity = capacity;
  }

  /** Keeps rows `keep` (ascending), in place: a row only ever moves down. */
  compact(keep: readonly number[]): void {
    const size = this.rowSize;
    keep.forEach((source, target) => {
      if (source !== target)
        this.data.copyWithin(target * size, source * size, (source + 1) * size);
    });
    this.batch = keep.length;
  }
}

/**
 * Free slots added at a time. A re-layout copies the whole cache (~165 ms for Qwen3-0.6B x 8
 * traces x 300 positions) and each masked slot costs attention (~0.035 ms a step there); 64
 * about minimises the sum of the two.
 */
const CAPACITY_GROWTH = 64;
/** Padding every row shares is trimmed once it is this long (a copy of the cache each time). */
const TRIM_AT = 32;

/**
 * The decoder as a scheduler (continuous batching): requests are submitted at any time, each
 * is prefilled alone when the batch has room for its traces (at most `maxRows` rows in flight),
 * and its rows join the rows already decoding; finished and stopped rows leave at once. A row's
 * tokens depend on its own prompt, seed and trace index only, never on its batch mates.
 */
export class Decoder {
  private pending: Submission[] = [];
  private rows: Row[] = [];
  private caches: KvCache[] = [];
  private running: Promise<void> | null = null;
  /** Since the decoder was made; generate() reports the difference over its call. */
  private readonly totals: GenerationTiming = { prefillMs: 0, decodeMs: 0, steps: 0, engineMs: 0 };

  constructor(
    readonly session: ort.InferenceSession,
    readonly shape: DecoderShape,
  ) {}

  /** Rows decoding now (for tests and monitoring). */
  get rowsInFlight(): number {
    return this.rows.length;
  }

  /** The requests' traces, decoded together with whatever else is in flight. */
  async generate(
    requests: readonly GenerationRequest[],
    options: GenerationOptions,
  ): Promise<GenerationResult> {
    const before = { ...this.totals };
    const results = await Promise.all(requests.map((r, i) => this.submit(r, options, i)));
    const traces = results.flat();
    traces.sort((a, b) => a.request - b.request || a.trace - b.trace);
    const timing = {
      prefillMs: this.totals.prefillMs - before.prefillMs,
      decodeMs: this.totals.decodeMs - before.decodeMs,
      steps: this.totals.steps - before.steps,
      engineMs: this.totals.engineMs - before.engineMs,
    };
    return { traces, timing };
  }

  /** One request's traces (sorted by trace), once the last of them has ended. */
  submit(
    request: GenerationRequest,
    options: GenerationOptions,
    index = 0,
  ): Promise<GeneratedTrace[]> {
    if (request.traces === 0) return Promise.resolve([]);
    this.checkMemory(request, options);
    return new Promise((resolve, reject) => {
      this.pending.push({ request, index, options, live: 0, traces: [], resolve, reject });
      this.running ??= this.loop().finally(() => {
        this.running = null;
      });
    });
  }

  private async loop(): Promise<void> {
    try {
      while (this.pending.length > 0 || this.rows.length > 0) {
        await this.admit();
        if (this.rows.length > 0) await this.step();
      }
    } catch (error) {
      const failed = new Set([...this.pending, ...this.rows.map((row) => row.submission)]);
      this.pending = [];
      this.rows = [];
      for (const cache of this.caches) cache.batch = 0;
      for (const submission of failed) submission.reject(error as Error);
    }
  }

  /** Prefills waiting requests while their traces fit; the first always gets in. */
  private async admit(): Promise<void> {
    for (;;) {
      const next = this.pending[0];
      if (next === undefined) return;
      const limit = next.options.maxRows ?? Number.POSITIVE_INFINITY;
      if (this.rows.length > 0 && this.rows.length + next.request.traces > limit) return;
      this.pending.shift();
      await this.prefill(next);
    }
  }

  private async prefill(submission: Submission): Promise<void> {
    const { layers, kvHeads, headDim } = this.shape;
    const { request } = submission;
    const start = now();
    const length = request.inputIds.length;
    const ids = BigInt64Array.from(request.inputIds, (id) => BigInt(id));
    const positions = BigInt64Array.from({ length }, (_, i) => BigInt(i));
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor("int64", ids, [1, length]),
      attention_mask: new ort.Tensor("int64", new BigInt64Array(length).fill(1n), [1, length]),
      position_ids: new ort.Tensor("int64", positions, [1, length]),
    };
    const emptyPast = this.kvTensor(this.kvArray(0), 1, 0);
    for (let i = 0; i < layers; i++) {
      for (const kind of KINDS) feeds[pastInputName(i, kind)] = emptyPast;
    }
    const out = await this.session.run(feeds);
    const engineStart = now();
    this.totals.prefillMs += engineStart - start;

    // The first token of every trace, sampled from the prompt's distribution.
    const logprobs = out[TOPK_LOGPROBS]?.data as Float32Array;
    const topIds = out[TOPK_IDS]?.data as BigInt64Array;
    const joining: Row[] = [];
    for (let t = 0; t < request.traces; t++) {
      const row: Row = {
        submission,
        trace: t,
        random: traceRandom(request.seed, (request.firstTrace ?? 0) + t),
        pad: 0,
        tokenIds: [],
      };
      submission.live += 1;
      if (this.advance(row, logprobs, topIds, 0)) joining.push(row);
    }
    if (joining.length > 0) {
      if (this.caches.length === 0) {
        this.caches = Array.from(
          { length: 2 * layers },
          () => new KvCache(this.kvArray(0), kvHeads, headDim),
        );
      }
      const held = this.rows.length === 0 ? 0 : (this.caches[0] as KvCache).length;
      // A longer prompt than the batch holds: everyone else moves right, behind more padding.
      const shift = Math.max(0, length - held);
      const total = held + shift;
      const capacity = total + CAPACITY_GROWTH;
      this.caches.forEach((cache, n) => {
        if (this.rows.length === 0) cache.reset();
        cache.reserve(this.rows.length + joining.length, capacity);
        if (shift > 0 && cache.batch > 0) cache.shiftRight(shift);
        else cache.length = total;
        const kind = KINDS[n % 2] as (typeof KINDS)[number];
        const prompt = out[newKvOutputName(Math.floor(n / 2), kind)]?.data as KvArray;
        cache.addRows(prompt, length, joining.length);
      });
      for (const row of this.rows) row.pad += shift;
      for (const row of joining) row.pad = total - length;
      this.rows.push(...joining);
    }
    this.totals.engineMs += now() - engineStart;
  }

  private async step(): Promise<void> {
    const { layers } = this.shape;
    const stepStart = now();
    const rows = this.rows;
    const batch = rows.length;
    const first = this.caches[0] as KvCache;
    // Positions held so far, the same in every layer's cache.
    const total = first.length;
    if (total === first.capacity) {
      for (const cache of this.caches) cache.reserve(batch, total + CAPACITY_GROWTH);
    }
    const capacity = first.capacity;
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
        const cache = this.caches[2 * i + j] as KvCache;
        stepFeeds[pastInputName(i, kind)] = this.kvTensor(cache.view(), batch, capacity);
      });
    }
    const runStart = now();
    const out = await this.session.run(stepFeeds);
    const runEnd = now();
    for (let i = 0; i < layers; i++) {
      KINDS.forEach((kind, j) => {
        (this.caches[2 * i + j] as KvCache).append(out[newKvOutputName(i, kind)]?.data as KvArray);
      });
    }
    this.totals.steps += 1;

    const logprobs = out[TOPK_LOGPROBS]?.data as Float32Array;
    const topIds = out[TOPK_IDS]?.data as BigInt64Array;
    const keep: number[] = [];
    rows.forEach((row, b) => {
      if (this.advance(row, logprobs, topIds, b)) keep.push(b);
    });
    if (keep.length < batch) {
      // Finished rows leave the cache at once, so they stop costing compute.
      for (const cache of this.caches) cache.compact(keep);
      this.rows = keep.map((b) => rows[b] as Row);
      const shared = Math.min(...this.rows.map((row) => row.pad));
      if (this.rows.length > 0 && shared >= TRIM_AT) {
        for (const cache of this.caches) cache.trimLeft(shared);
        for (const row of this.rows) row.pad -= shared;
      }
    }
    const end = now();
    this.totals.engineMs += runStart - stepStart + (end - runEnd);
    this.totals.decodeMs += end - stepStart;
  }

  /**
   * Samples the row's next token from batch row `b` of the step's top-k, tells the callback,
   * and returns false (after recording the trace, and resolving its request when it was the
   * request's last row) when the row is finished.
   */
  private advance(row: Row, logprobs: Float32Array, ids: BigInt64Array, b: number): boolean {
    const { submission } = row;
    const { options } = submission;
    const k = this.shape.topk;
    const choice = sampleIndex(logprobs, b * k, k, options.sampling, row.random);
    const tokenId = Number(ids[b * k + choice]);
    row.tokenIds.push(tokenId);
    const stop = options.onStep?.({
      request: submission.index,
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
    submission.traces.push({
      request: submission.index,
      trace: row.trace,
      tokenIds: row.tokenIds,
      finishReason: reason,
    });
    submission.live -= 1;
    if (submission.live === 0 && submission.traces.length === submission.request.traces) {
      submission.resolve(submission.traces.sort((x, y) => x.trace - y.trace));
    }
    return false;
  }

  /**
   * Refuses work whose KV cache cannot fit, instead of being killed by the OOM killer midway:
   * each copy alive during a step (ours, and the graph's concatenation where it keeps one) is
   * rows x layers x 2 x kv_heads x positions x head_dim, for as many rows as may be in flight.
   */
  private checkMemory(request: GenerationRequest, options: GenerationOptions): void {
    const { layers, kvHeads, headDim, kvType, kvCopiesPerStep: copies } = this.shape;
    const positions = request.inputIds.length + options.maxNewTokens;
    const rows = Math.max(request.traces, options.maxRows ?? request.traces);
    const bytes = kvType === "float16" ? 2 : 4;
    const perRow = copies * layers * 2 * kvHeads * positions * headDim * bytes;
    // The buffers already held are reused, so they count as available.
    const budget = 0.8 * (freemem() + this.heldBytes());
    if (rows * perRow > budget) {
      const gib = (x: number) => (x / 2 ** 30).toFixed(1);
      const fits = Math.floor(budget / perRow);
      throw new InputError(
        `${rows} rows of up to ${positions} positions need about ${gib(rows * perRow)} GiB for the KV cache ` +
          `(${copies === 1 ? "1 copy" : `${copies} copies`} during a step); about ${gib(budget / 0.8)} GiB is free: ` +
          (fits >= 1
            ? `use --max-rows ${fits} or fewer (and at most that many --traces / --parallel)`
            : "use a shorter prompt or --max-new-tokens"),
      );
    }
  }

  /** Bytes the cache buffers hold now. */
  private heldBytes(): number {
    return this.caches.reduce((sum, cache) => sum + cache.data.byteLength, 0);
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
