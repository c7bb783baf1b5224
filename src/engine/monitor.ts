/**
 * Online confidence monitor for one trace being generated: fed one position at a time, it keeps
 * the running window sum (O(1) per token), reports the current group confidence, and says when
 * the trace must stop against threshold s. Its statistics equal traceStats() bit for bit.
 */
import { assertTopK, DEFAULT_TOPK, tokenConfidenceAt } from "./confidence.js";
import { assertWindow, groupConfidences, statsFromGroups } from "./stats.js";
import type { TraceStats, WindowOptions } from "./types.js";

export interface MonitorOptions extends WindowOptions {
  /** k of the per-token confidence. */
  topk?: number;
  /** Stop threshold s; null or undefined never stops (warmup traces). */
  threshold?: number | null;
}

/** A growable Float64Array: appends are amortised O(1) with no per-token allocation. */
class FloatLog {
  private buffer = new Float64Array(64);
  length = 0;

  push(value: number): void {
    if (this.length === this.buffer.length) {
      const grown = new Float64Array(this.buffer.length * 2);
      grown.set(this.buffer);
      this.buffer = grown;
    }
    this.buffer[this.length++] = value;
  }

  at(index: number): number {
    return this.buffer[index] as number;
  }

  view(): Float64Array {
    return this.buffer.subarray(0, this.length);
  }
}

export class ConfidenceMonitor {
  readonly window: number;
  readonly tail: number;
  readonly topk: number;
  readonly threshold: number | null;
  private readonly confidences = new FloatLog();
  private readonly groups = new FloatLog();
  private windowSum = 0;
  private lowestGroup = Number.POSITIVE_INFINITY;
  private stoppedAt: number | null = null;

  constructor(options: MonitorOptions) {
    assertWindow(options);
    this.window = options.window;
    this.tail = options.tail;
    this.topk = options.topk ?? DEFAULT_TOPK;
    assertTopK(this.topk);
    this.threshold = options.threshold ?? null;
  }

  /** Tokens fed so far. */
  get tokens(): number {
    return this.confidences.length;
  }

  /** True once a full window fell below the threshold; the trace must not grow further. */
  get stopped(): boolean {
    return this.stoppedAt !== null;
  }

  /** Group confidence of the latest full window, or null before the first full window. */
  get currentGroup(): number | null {
    return this.groups.length === 0 ? null : this.groups.at(this.groups.length - 1);
  }

  /** Lowest full-window group confidence so far, or null before the first full window. */
  get lowestSoFar(): number | null {
    return this.groups.length === 0 ? null : this.lowestGroup;
  }

  /**
   * Feeds one position's top-k log-probs (values[offset .. offset+count), any order).
   * Returns true when the trace must stop now (this token is its last).
   */
  pushLogprobs(values: ArrayLike<number>, offset = 0, count = values.length - offset): boolean {
    return this.pushConfidence(tokenConfidenceAt(values, offset, count, this.topk));
  }

  /** Feeds one token's confidence C_i. Returns true when the trace must stop now. */
  pushConfidence(confidence: number): boolean {
    if (this.stoppedAt !== null) {
      throw new Error(`trace was stopped after ${this.stoppedAt} tokens; it cannot take more`);
    }
    const index = this.confidences.length;
    this.confidences.push(confidence);
    this.windowSum += confidence;
    if (index >= this.window) this.windowSum -= this.confidences.at(index - this.window);
    if (index < this.window - 1) return false;

    const group = this.windowSum / this.window;
    this.groups.push(group);
    if (group < this.lowestGroup) this.lowestGroup = group;
    if (this.threshold !== null && group < this.threshold) {
      this.stoppedAt = index + 1;
      return true;
    }
    return false;
  }

  /** The token confidences C_i fed so far (a copy). */
  tokenConfidences(): Float64Array {
    return this.confidences.view().slice();
  }

  /** Statistics of the trace as generated so far (for a stopped trace: up to its stop). */
  stats(): TraceStats {
    const confidences = this.confidences.view();
    // A trace shorter than the window has one group, its mean, which only exists at the end.
    const groups =
      this.groups.length > 0 ? this.groups.view() : groupConfidences(confidences, this.window);
    return statsFromGroups(confidences, groups, this.tail);
  }
}
