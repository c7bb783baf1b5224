/**
 * The two fits of the scaling analysis, as scipy computes them: Spearman's rho with the p-value
 * of scipy.stats.spearmanr (Student t with n - 2 degrees of freedom, two-sided) and ordinary least
 * squares of y on x (scipy.stats.linregress; sklearn's LinearRegression gives the same slope and
 * R^2). What cannot be computed is null, never NaN.
 */
import tCdf from "@stdlib/stats-base-dists-t-cdf";

export interface Fit {
  n: number;
  /** Spearman's rho; null with fewer than 2 points or when x or y is constant. */
  spearman: number | null;
  /** Two-sided p-value of rho; null when rho is null or n < 3 (no degrees of freedom). */
  p_value: number | null;
  /** OLS slope of y on x; null with fewer than 2 points or when x is constant. */
  slope: number | null;
  /** Squared Pearson correlation of x and y (R^2 of the OLS fit); null when x or y is constant. */
  r2: number | null;
}

/** 1-based ranks, ties sharing the mean of their positions (scipy.stats.rankdata "average"). */
export function averageRanks(values: readonly number[]): number[] {
  const order = values
    .map((_, i) => i)
    .sort((a, b) => (values[a] as number) - (values[b] as number));
  const ranks = new Array<number>(values.length).fill(0);
  let start = 0;
  while (start < order.length) {
    let end = start;
    while (
      end + 1 < order.length &&
      values[order[end + 1] as number] === values[order[start] as number]
    ) {
      end++;
    }
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) ranks[order[k] as number] = rank;
    start = end + 1;
  }
  return ranks;
}

interface Moments {
  sxx: number;
  syy: number;
  sxy: number;
}

function moments(x: readonly number[], y: readonly number[]): Moments {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i] as number;
    my += y[i] as number;
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (x[i] as number) - mx;
    const dy = (y[i] as number) - my;
    sxx += dx * dx;
    syy += dy * dy;
    sxy += dx * dy;
  }
  return { sxx, syy, sxy };
}

/** Pearson's r, clamped to [-1, 1]; null with fewer than 2 points or a constant side. */
export function pearson(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length) throw new Error("pearson: x and y differ in length");
  if (x.length < 2) return null;
  const { sxx, syy, sxy } = moments(x, y);
  if (sxx === 0 || syy === 0) return null;
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/** scipy.stats.spearmanr(x, y): rho and its two-sided p-value (t approximation, n - 2 df). */
export function spearman(
  x: readonly number[],
  y: readonly number[],
): { rho: number | null; p: number | null } {
  const rho = pearson(averageRanks(x), averageRanks(y));
  const dof = x.length - 2;
  if (rho === null || dof < 1) return { rho, p: null };
  // rho = +-1 gives an infinite t and p = 0, as in scipy.
  const t = rho * Math.sqrt(Math.max(0, dof / ((rho + 1) * (1 - rho))));
  return { rho, p: Math.min(1, 2 * tCdf(-Math.abs(t), dof)) };
}

/** Spearman, OLS slope and R^2 of y against x. */
export function scalingFit(x: readonly number[], y: readonly number[]): Fit {
  if (x.length !== y.length) throw new Error("scalingFit: x and y differ in length");
  const n = x.length;
  const { rho, p } = spearman(x, y);
  if (n < 2) return { n, spearman: rho, p_value: p, slope: null, r2: null };
  const { sxx, syy, sxy } = moments(x, y);
  const slope = sxx === 0 ? null : sxy / sxx;
  const r2 = sxx === 0 || syy === 0 ? null : Math.min(1, (sxy * sxy) / (sxx * syy));
  return { n, spearman: rho, p_value: p, slope, r2 };
}

/** Mean of the non-null values; null when there are none. */
export function meanOf(values: readonly (number | null)[]): number | null {
  const present = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (present.length === 0) return null;
  return present.reduce((sum, v) => sum + v, 0) / present.length;
}
