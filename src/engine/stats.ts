/**
 * Batch trace statistics over a complete trace's token confidences.
 *
 * Window sums use one fixed recurrence, S_0 = C_0 + ... + C_{n-1} (left to right) and
 * S_{j+1} = (S_j + C_{j+n}) - C_j, which the online ConfidenceMonitor repeats operation for
 * operation: batch and incremental results are therefore bit-identical, not just close.
 */
import type { TraceStats, WindowOptions } from "./types.js";

export function assertWindow({ window, tail }: WindowOptions): void {
  if (!Number.isInteger(window) || window < 1) {
    throw new RangeError(`window must be a positive integer, got ${window}`);
  }
  if (!Number.isInteger(tail) || tail < 1) {
    throw new RangeError(`tail must be a positive integer, got ${tail}`);
  }
}

/** Left-to-right sum of values[from .. to). */
export function sumRange(values: ArrayLike<number>, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += values[i] as number;
  return sum;
}

/**
 * Sliding-window group confidences G_j, j = 0 .. L-n. A trace shorter than the window has one
 * group, its mean; an empty trace has none.
 */
export function groupConfidences(confidences: ArrayLike<number>, window: number): Float64Array {
  const length = confidences.length;
  if (length === 0) return new Float64Array(0);
  if (length < window) return Float64Array.of(sumRange(confidences, 0, length) / length);
  const groups = new Float64Array(length - window + 1);
  let sum = sumRange(confidences, 0, window);
  groups[0] = sum / window;
  for (let j = 1; j < groups.length; j++) {
    sum += confidences[j + window - 1] as number;
    sum -= confidences[j - 1] as number;
    groups[j] = sum / window;
  }
  return groups;
}

/** Mean of the m = max(1, floor(#groups / 10)) smallest groups. */
export function bottomTenPercent(groups: ArrayLike<number>): number | null {
  if (groups.length === 0) return null;
  const sorted = Float64Array.from(groups).sort();
  const m = Math.max(1, Math.floor(0.1 * sorted.length));
  return sumRange(sorted, 0, m) / m;
}

export function minimum(values: ArrayLike<number>): number | null {
  if (values.length === 0) return null;
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < values.length; i++) min = Math.min(min, values[i] as number);
  return min;
}

/** Mean of the last min(L, t) token confidences. */
export function tailConfidence(confidences: ArrayLike<number>, tail: number): number | null {
  const length = confidences.length;
  if (length === 0) return null;
  const count = Math.min(length, tail);
  return sumRange(confidences, length - count, length) / count;
}

export function meanConfidence(confidences: ArrayLike<number>): number | null {
  const length = confidences.length;
  return length === 0 ? null : sumRange(confidences, 0, length) / length;
}

/** Statistics from token confidences and their (already computed) group confidences. */
export function statsFromGroups(
  confidences: ArrayLike<number>,
  groups: ArrayLike<number>,
  tail: number,
): TraceStats {
  return {
    tokens: confidences.length,
    mean: meanConfidence(confidences),
    lowest: minimum(groups),
    bottom10: bottomTenPercent(groups),
    tail: tailConfidence(confidences, tail),
  };
}

/** All trace-level confidences of a complete trace. */
export function traceStats(confidences: ArrayLike<number>, options: WindowOptions): TraceStats {
  assertWindow(options);
  return statsFromGroups(confidences, groupConfidences(confidences, options.window), options.tail);
}

/**
 * Where online early stopping would end this trace against threshold s: the number of tokens
 * it would have used (j + n for the first full window G_j < s), or null if it runs to the end.
 * A trace shorter than the window is never stopped.
 */
export function stopPoint(
  confidences: ArrayLike<number>,
  window: number,
  threshold: number,
): number | null {
  if (confidences.length < window) return null;
  const groups = groupConfidences(confidences, window);
  for (let j = 0; j < groups.length; j++) {
    if ((groups[j] as number) < threshold) return j + window;
  }
  return null;
}
