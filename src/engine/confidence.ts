/**
 * Per-token DeepConf confidence: C = -(1/k) * sum of the k largest log-probs of a position.
 * Higher C means MORE confident. Log-probs must be raw (before temperature / top-k / top-p).
 */

/** -Infinity and NaN log-probs are floored here so that C, and every window sum, stays finite. */
export const LOGPROB_FLOOR = -1e4;
export const DEFAULT_TOPK = 20;

/** Clamps a log-prob to [LOGPROB_FLOOR, +inf); NaN becomes the floor (NaN >= x is false). */
export function floorLogprob(x: number): number {
  // Not Math.max: Math.max(NaN, floor) is NaN, and NaN must be floored too.
  return x >= LOGPROB_FLOOR ? x : LOGPROB_FLOOR;
}

export function assertTopK(k: number): void {
  if (!Number.isInteger(k) || k < 1) {
    throw new RangeError(`top-k must be a positive integer, got ${k}`);
  }
}

/** Sum of the k largest floored values of values[offset .. offset+count), count > k. */
function largestSum(values: ArrayLike<number>, offset: number, count: number, k: number): number {
  const floored = new Float64Array(count);
  for (let i = 0; i < count; i++) floored[i] = floorLogprob(values[offset + i] as number);
  floored.sort();
  let sum = 0;
  for (let i = count - k; i < count; i++) sum += floored[i] as number;
  return sum;
}

/**
 * Confidence of one position whose log-probs are values[offset .. offset+count).
 * The values may come in any order; when count > k the k largest are used.
 * Takes an offset so batched decoders can pass one flat [batch, k] buffer without copying.
 */
export function tokenConfidenceAt(
  values: ArrayLike<number>,
  offset: number,
  count: number,
  k: number = DEFAULT_TOPK,
): number {
  if (count !== k || !(k >= 1)) {
    assertTopK(k);
    if (count < k) {
      throw new RangeError(`a position has ${count} log-probs but top-k needs at least ${k}`);
    }
    return -largestSum(values, offset, count, k) / k;
  }
  // The hot path, once per generated token: exactly k values, the floor inlined by hand and
  // copied to a local (reading a module-level const in the loop cost 3x here).
  const floor = LOGPROB_FLOOR;
  let sum = 0;
  for (let i = offset; i < offset + k; i++) {
    const x = values[i] as number;
    sum += x >= floor ? x : floor;
  }
  return -sum / k;
}

/** Confidence of one position given its log-probs (any order, at least k of them). */
export function tokenConfidence(row: ArrayLike<number>, k: number = DEFAULT_TOPK): number {
  return tokenConfidenceAt(row, 0, row.length, k);
}
