/**
 * Percentile bootstrap with a seeded generator (pure-rand's xoroshiro128+), so an analysis is
 * reproducible: the same data, resamples and seed give the same interval to the last bit.
 */
import { uniformInt } from "pure-rand/distribution/uniformInt";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import { percentile } from "../engine/percentile.js";
import type { Interval } from "./stats.js";

export const DEFAULT_RESAMPLES = 2000;
export const DEFAULT_SEED = 0;

export interface BootstrapOptions {
  /** Number of resamples (default 2000). */
  resamples?: number;
  /** Generator seed (default 0); every call starts its own stream from it. */
  seed?: number;
}

/**
 * 95% percentile-bootstrap interval of a statistic over one or more independent samples
 * (strata): each resample draws sizes[k] indices with replacement from stratum k, and
 * `statistic` gets those index arrays. Resamples where the statistic is undefined (null) are
 * dropped; the interval is null when a stratum is empty or fewer than half the resamples give a
 * value. The 2.5 and 97.5 percentiles use numpy's linear interpolation.
 */
export function bootstrapInterval(
  sizes: readonly number[],
  statistic: (draws: readonly Uint32Array[]) => number | null,
  options: BootstrapOptions = {},
): Interval {
  const resamples = options.resamples ?? DEFAULT_RESAMPLES;
  if (sizes.length === 0 || sizes.some((n) => n < 1) || resamples < 1) return null;
  const rng = xoroshiro128plus(options.seed ?? DEFAULT_SEED);
  const draws = sizes.map((n) => new Uint32Array(n));
  const values: number[] = [];
  for (let r = 0; r < resamples; r++) {
    sizes.forEach((n, k) => {
      const draw = draws[k] as Uint32Array;
      for (let i = 0; i < n; i++) draw[i] = uniformInt(rng, 0, n - 1);
    });
    const value = statistic(draws);
    if (value !== null && Number.isFinite(value)) values.push(value);
  }
  if (values.length === 0 || values.length < resamples / 2) return null;
  return [percentile(values, 2.5), percentile(values, 97.5)];
}

/** Bootstrap interval of the difference of two accuracies, mean(a) - mean(b). */
export function accuracyDifferenceInterval(
  a: readonly boolean[],
  b: readonly boolean[],
  options: BootstrapOptions = {},
): Interval {
  return bootstrapInterval(
    [a.length, b.length],
    ([da, db]) => share(a, da as Uint32Array) - share(b, db as Uint32Array),
    options,
  );
}

function share(values: readonly boolean[], draw: Uint32Array): number {
  let k = 0;
  for (const i of draw) if (values[i]) k++;
  return k / draw.length;
}
