/**
 * Statistics for `deepconf analyze`: intervals, tests and effect sizes. Distributions (normal,
 * Student t, hypergeometric) come from stdlib (@stdlib/stats-base-dists-*); this file only
 * arranges them. Every function returns null, never NaN or an infinity, for a value that cannot
 * be computed (an empty sample, a zero variance). Reference values in the tests are scipy's.
 */
import hypergeometricPmf from "@stdlib/stats-base-dists-hypergeometric-pmf";
import normalCdf from "@stdlib/stats-base-dists-normal-cdf";
import tCdf from "@stdlib/stats-base-dists-t-cdf";

/** z for a two-sided 95% interval (scipy.stats.norm.ppf(0.975)). */
export const Z95 = 1.959963984540054;

/** A closed interval [low, high]; null when it cannot be computed. */
export type Interval = [number, number] | null;

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** k / n, null when n is 0. */
export function proportion(successes: number, n: number): number | null {
  return n > 0 ? successes / n : null;
}

/**
 * Wilson score interval for a binomial proportion (Wilson 1927):
 * (p + z^2/2n +- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n); null when n is 0.
 */
export function wilson(successes: number, n: number, z = Z95): Interval {
  if (!(n > 0) || successes < 0 || successes > n) return null;
  const p = successes / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denominator;
  // Exact at the ends (floating point leaves 1 - 2e-16 otherwise).
  return [
    successes === 0 ? 0 : Math.max(0, centre - half),
    successes === n ? 1 : Math.min(1, centre + half),
  ];
}

/** F1 with refusal as the positive class: 2tp / (2tp + fp + fn); null without any positive. */
export function f1Score(tp: number, fp: number, fn: number): number | null {
  const denominator = 2 * tp + fp + fn;
  return denominator > 0 ? (2 * tp) / denominator : null;
}

export function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Sample variance (ddof 1); null below two values. */
export function variance(values: readonly number[]): number | null {
  const m = mean(values);
  if (m === null || values.length < 2) return null;
  let ss = 0;
  for (const v of values) ss += (v - m) * (v - m);
  return ss / (values.length - 1);
}

/** Two-sided p-value of a standard normal statistic. */
export function normalTwoSided(z: number): number {
  return Math.min(1, 2 * normalCdf(-Math.abs(z), 0, 1));
}

/** Two-sided p-value of a Student t statistic with df degrees of freedom. */
export function tTwoSided(t: number, df: number): number {
  return Math.min(1, 2 * tCdf(-Math.abs(t), df));
}

/**
 * Fisher's exact test on the 2x2 table [[a, b], [c, d]], two-sided, as
 * scipy.stats.fisher_exact: the sum of the probabilities of all tables with the same margins
 * that are no more likely than the observed one (relative tolerance 1e-7). Null when a row is
 * empty (one of the two groups has no instance; scipy returns 1 there); 1 when a column is.
 */
export function fisherExact(a: number, b: number, c: number, d: number): number | null {
  const cells = [a, b, c, d];
  if (cells.some((x) => !Number.isInteger(x) || x < 0)) return null;
  const row1 = a + b;
  const row2 = c + d;
  if (row1 === 0 || row2 === 0) return null;
  const col1 = a + c;
  const total = row1 + row2;
  if (col1 === 0 || col1 === total) return 1;
  // X = a ~ Hypergeometric(population total, col1 successes, row1 draws).
  const observed = hypergeometricPmf(a, total, col1, row1);
  const threshold = observed * (1 + 1e-7);
  let p = 0;
  for (let x = Math.max(0, row1 + col1 - total); x <= Math.min(row1, col1); x++) {
    const px = hypergeometricPmf(x, total, col1, row1);
    if (px <= threshold) p += px;
  }
  return Math.min(1, p);
}

/** Cohen's h for two proportions: 2 asin sqrt(p1) - 2 asin sqrt(p2). */
export function cohensH(p1: number | null, p2: number | null): number | null {
  if (p1 === null || p2 === null) return null;
  return 2 * Math.asin(Math.sqrt(p1)) - 2 * Math.asin(Math.sqrt(p2));
}

export interface WelchResult {
  t: number | null;
  df: number | null;
  p_value: number | null;
}

/**
 * Welch's unequal-variance t-test of mean(x) - mean(y), as scipy.stats.ttest_ind(x, y,
 * equal_var=False). Null below two values per sample or when both variances are 0 (scipy gives
 * NaN, or an infinite t with p 0 when the means differ).
 */
export function welchT(x: readonly number[], y: readonly number[]): WelchResult {
  const none = { t: null, df: null, p_value: null };
  const vx = variance(x);
  const vy = variance(y);
  const mx = mean(x);
  const my = mean(y);
  if (vx === null || vy === null || mx === null || my === null) return none;
  const ax = vx / x.length;
  const ay = vy / y.length;
  const se2 = ax + ay;
  if (!(se2 > 0)) return none;
  const t = (mx - my) / Math.sqrt(se2);
  const df = (se2 * se2) / ((ax * ax) / (x.length - 1) + (ay * ay) / (y.length - 1));
  if (!Number.isFinite(t) || !Number.isFinite(df)) return none;
  return { t, df, p_value: tTwoSided(t, df) };
}

/**
 * Cohen's d of mean(x) - mean(y) with the pooled standard deviation
 * sqrt(((nx-1)sx^2 + (ny-1)sy^2) / (nx+ny-2)); null when that is 0 or undefined.
 */
export function cohensD(x: readonly number[], y: readonly number[]): number | null {
  const mx = mean(x);
  const my = mean(y);
  if (mx === null || my === null || x.length + y.length < 3) return null;
  const ssx = (variance(x) ?? 0) * (x.length - 1);
  const ssy = (variance(y) ?? 0) * (y.length - 1);
  const pooled = Math.sqrt((ssx + ssy) / (x.length + y.length - 2));
  if (!(pooled > 0)) return null;
  return finite((mx - my) / pooled);
}

/** Average ranks (1-based) of the pooled values, ties sharing their mean rank. */
function averageRanks(values: readonly number[]): { ranks: Float64Array; tieTerm: number } {
  const order = Array.from(values.keys()).sort(
    (a, b) => (values[a] as number) - (values[b] as number),
  );
  const sorted = order.map((i) => values[i] as number);
  const ranks = new Float64Array(values.length);
  let tieTerm = 0;
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[i]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k] as number] = rank;
    const t = j - i + 1;
    tieTerm += t * t * t - t;
    i = j + 1;
  }
  return { ranks, tieTerm };
}

export interface MannWhitneyResult {
  /** U of x: the number of (x, y) pairs with x > y, ties counting 1/2. */
  u: number | null;
  p_value: number | null;
}

/**
 * Mann-Whitney U test, two-sided, normal approximation with tie correction and continuity
 * correction: scipy.stats.mannwhitneyu(x, y, method="asymptotic") (scipy's default "auto"
 * switches to the exact distribution below 8 values per sample without ties; we do not).
 * All values equal gives p 1, as scipy; an empty sample gives null.
 */
export function mannWhitneyU(x: readonly number[], y: readonly number[]): MannWhitneyResult {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) return { u: null, p_value: null };
  const { ranks, tieTerm } = averageRanks([...x, ...y]);
  let r1 = 0;
  for (let i = 0; i < n1; i++) r1 += ranks[i] as number;
  const u1 = r1 - (n1 * (n1 + 1)) / 2;
  const u = Math.max(u1, n1 * n2 - u1);
  const n = n1 + n2;
  const mu = (n1 * n2) / 2;
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  if (!(sigma > 0)) return { u: u1, p_value: 1 };
  const z = (u - mu - 0.5) / sigma;
  return { u: u1, p_value: Math.min(1, 2 * normalCdf(-z, 0, 1)) };
}
