/**
 * The online DeepConf controller for one instance (the paper's Algorithm 2): warmup traces,
 * a threshold from eta, early stopping, vote eligibility and weights, consensus-based adaptive
 * sampling under a budget, and token accounting.
 *
 * It drives a generator without knowing it: the generator asks canStartTrace(), feeds each
 * started trace's tokens to its monitor, and reports the end with finishTrace(). Replay uses
 * the same calls on recorded traces, so live runs and replays share every rule.
 */
import { assertTopK } from "./confidence.js";
import { ConfidenceMonitor } from "./monitor.js";
import { etaThreshold } from "./percentile.js";
import { assertWindow } from "./stats.js";
import type { TraceEnd, TraceStats, WindowOptions } from "./types.js";
import { consensus, weightedVote } from "./voting.js";

export interface OnlineOptions extends WindowOptions {
  /** k of the per-token confidence. */
  topk: number;
  /** Warmup traces N_init, generated to completion to calibrate the threshold (>= 1). */
  warmup: number;
  /** Keep-percentage eta: 10 = DeepConf-low (aggressive), 90 = DeepConf-high (conservative). */
  eta: number;
  /** Budget B: most traces per instance, warmup included. */
  budget: number;
  /** Consensus tau: stop sampling once V(best)/sum V >= tau. tau >= 1 disables it. */
  tau: number;
  /**
   * Voting traces the consensus check needs (M, default 2): a single voter has beta = 1 by
   * definition and must not end sampling. 1 restores the rule without that guard.
   */
  minVoters?: number;
}

/** Default M of the consensus check (deepconf.md rule 5). */
export const DEFAULT_MIN_VOTERS = 2;

export type OnlineStopReason = "consensus" | "budget";

/** A trace the controller let start; the generator feeds `monitor` and then finishes it. */
export interface TraceHandle {
  readonly traceId: string;
  /** 0-based order in which the trace was started. */
  readonly index: number;
  readonly warmup: boolean;
  readonly monitor: ConfidenceMonitor;
}

export interface OnlineTrace {
  traceId: string;
  warmup: boolean;
  answer: string | null;
  end: TraceEnd;
  stats: TraceStats;
  voted: boolean;
}

export interface OnlineResult {
  /** Threshold s, or null when no warmup trace had any confidence. */
  threshold: number | null;
  answer: string | null;
  /** Traces started (warmup included). */
  tracesUsed: number;
  /** Every generated token: warmup, complete, stopped and cancelled traces. */
  tokensUsed: number;
  /** Ids of traces ended by early stopping. */
  stopped: string[];
  /** Final V(best) / sum V, or null when no trace voted. */
  consensus: number | null;
  /** Why sampling ended: consensus reached or budget spent. */
  stopReason: OnlineStopReason | null;
  traces: OnlineTrace[];
}

/** Variants named by what they keep, never by a bare percentile (the reference code flips it). */
export const VARIANT_ETA = { low: 10, high: 90 } as const;
export type Variant = keyof typeof VARIANT_ETA;

export function assertOnlineOptions(options: OnlineOptions): void {
  assertWindow(options);
  assertTopK(options.topk);
  if (!Number.isInteger(options.warmup) || options.warmup < 1) {
    throw new RangeError(`warmup must be an integer >= 1, got ${options.warmup}`);
  }
  if (!Number.isInteger(options.budget) || options.budget < 1) {
    throw new RangeError(`budget must be an integer >= 1, got ${options.budget}`);
  }
  if (!(options.eta > 0 && options.eta <= 100)) {
    throw new RangeError(`eta must be within (0, 100], got ${options.eta}`);
  }
  if (!(options.tau > 0)) throw new RangeError(`tau must be > 0, got ${options.tau}`);
  const minVoters = options.minVoters ?? DEFAULT_MIN_VOTERS;
  if (!Number.isInteger(minVoters) || minVoters < 1) {
    throw new RangeError(`min_voters must be an integer >= 1, got ${minVoters}`);
  }
}

export class OnlineController {
  readonly options: Readonly<OnlineOptions>;
  private readonly warmupCount: number;
  private readonly live = new Map<TraceHandle, true>();
  private readonly finished: OnlineTrace[] = [];
  private started = 0;
  private warmupFinished = 0;
  private thresholdValue: number | null = null;
  private calibrated = false;
  private consensusReached = false;

  constructor(options: OnlineOptions) {
    assertOnlineOptions(options);
    this.options = { ...options };
    this.warmupCount = Math.min(options.warmup, options.budget);
  }

  /** Threshold s once the warmup is complete; null before (or if the warmup had no tokens). */
  get threshold(): number | null {
    return this.thresholdValue;
  }

  get tracesStarted(): number {
    return this.started;
  }

  /**
   * Whether the generator may start another trace now. During warmup, at most N_init traces;
   * later traces wait for the threshold, so false also means "finish the traces in flight".
   */
  canStartTrace(): boolean {
    if (this.consensusReached || this.started >= this.options.budget) return false;
    return this.calibrated || this.started < this.warmupCount;
  }

  /** True when sampling is over: consensus reached, or the budget started and all finished. */
  get done(): boolean {
    if (this.consensusReached) return true;
    return this.started >= this.options.budget && this.live.size === 0;
  }

  startTrace(traceId: string = String(this.started)): TraceHandle {
    if (!this.canStartTrace()) {
      throw new Error("no trace may start now: check canStartTrace() first");
    }
    const warmup = !this.calibrated;
    const handle: TraceHandle = {
      traceId,
      index: this.started++,
      warmup,
      monitor: new ConfidenceMonitor({
        window: this.options.window,
        tail: this.options.tail,
        topk: this.options.topk,
        threshold: warmup ? null : this.thresholdValue,
      }),
    };
    this.live.set(handle, true);
    return handle;
  }

  /**
   * Records the end of a trace: its extracted answer (null if none) and whether the generator
   * cancelled it (e.g. once consensus was reached). A stopped monitor marks an early stop.
   */
  finishTrace(handle: TraceHandle, answer: string | null, cancelled = false): void {
    if (!this.live.delete(handle)) throw new Error(`trace ${handle.traceId} is not in flight`);
    const end: TraceEnd = handle.monitor.stopped ? "stopped" : cancelled ? "cancelled" : "complete";
    this.finished.push({
      traceId: handle.traceId,
      warmup: handle.warmup,
      answer,
      end,
      stats: handle.monitor.stats(),
      voted: false,
    });
    if (handle.warmup && ++this.warmupFinished === this.warmupCount) this.calibrate();
    if (this.calibrated) this.updateConsensus();
  }

  result(): OnlineResult {
    const vote = this.vote();
    return {
      threshold: this.thresholdValue,
      answer: vote.answer,
      tracesUsed: this.started,
      tokensUsed: this.finished.reduce((sum, t) => sum + t.stats.tokens, 0),
      stopped: this.finished.filter((t) => t.end === "stopped").map((t) => t.traceId),
      consensus: consensus(vote),
      stopReason: this.consensusReached ? "consensus" : this.done ? "budget" : null,
      traces: this.finished.map((t) => ({ ...t, voted: this.votes(t) })),
    };
  }

  private calibrate(): void {
    const lowest = this.finished
      .filter((t) => t.warmup && t.end === "complete" && t.stats.lowest !== null)
      .map((t) => t.stats.lowest as number);
    this.thresholdValue = lowest.length > 0 ? etaThreshold(lowest, this.options.eta) : null;
    this.calibrated = true;
  }

  /** A trace votes iff it ran to its end, has an answer and its lowest group clears s. */
  private votes(trace: OnlineTrace): boolean {
    if (!this.calibrated || trace.end !== "complete" || trace.answer === null) return false;
    if (trace.stats.lowest === null) return false;
    return this.thresholdValue === null || trace.stats.lowest >= this.thresholdValue;
  }

  private vote() {
    return weightedVote(
      this.finished
        .filter((t) => this.votes(t))
        .map((t) => ({ answer: t.answer, weight: t.stats.lowest as number })),
    );
  }

  /**
   * Adaptive sampling: once at least min_voters traces vote and the share of the best answer
   * reaches tau, no trace starts again.
   */
  private updateConsensus(): void {
    if (this.consensusReached || this.options.tau >= 1) return;
    const voters = this.finished.filter((t) => this.votes(t)).length;
    if (voters < (this.options.minVoters ?? DEFAULT_MIN_VOTERS)) return;
    const beta = consensus(this.vote());
    this.consensusReached = beta !== null && beta >= this.options.tau;
  }
}
