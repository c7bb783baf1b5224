/**
 * Reference values from scipy 1.17.1 / numpy 2.4.6 on this machine; each block names the call.
 * Wilson by formula in numpy (statsmodels is not installed):
 *   p=k/n; den=1+z*z/n; c=(p+z*z/(2*n))/den; h=z*sqrt(p*(1-p)/n+z*z/(4*n*n))/den; (c-h, c+h)
 *   with z = stats.norm.ppf(0.975).
 */
import { describe, expect, test } from "vitest";
import { accuracyDifferenceInterval, bootstrapInterval } from "../../src/analysis/bootstrap.js";
import {
  cohensD,
  cohensH,
  f1Score,
  fisherExact,
  mannWhitneyU,
  normalTwoSided,
  tTwoSided,
  variance,
  welchT,
  wilson,
  Z95,
} from "../../src/analysis/stats.js";

const close = (actual: number | null, expected: number, digits = 12) => {
  expect(actual).not.toBeNull();
  expect(actual as number).toBeCloseTo(expected, digits);
};

describe("wilson", () => {
  test.each([
    [7, 10, 0.39677814746114537, 0.8922087325936989],
    [0, 5, 0.0, 0.43448246478317476],
    [5, 5, 0.5655175352168251, 1.0],
    [45, 48, 0.8316456194505365, 0.9785167670916107],
    [1, 1, 0.20654931437723745, 1.0],
  ])("%i of %i (numpy formula)", (k, n, lo, hi) => {
    const ci = wilson(k, n);
    expect(ci).not.toBeNull();
    close(ci?.[0] ?? null, lo, 14);
    close(ci?.[1] ?? null, hi, 14);
  });

  test("exact ends and n = 0", () => {
    expect(wilson(0, 5)?.[0]).toBe(0);
    expect(wilson(5, 5)?.[1]).toBe(1);
    expect(wilson(0, 0)).toBeNull();
    expect(Z95).toBe(1.959963984540054); // stats.norm.ppf(0.975)
  });
});

describe("distributions (stdlib) against scipy", () => {
  test("t and normal tails", () => {
    // 2 * stats.t.cdf(-2.5, 3.7); 2 * stats.norm.cdf(-1.3)
    close(tTwoSided(2.5, 3.7), 2 * 0.03591101145591339, 13);
    close(normalTwoSided(-1.3), 2 * 0.09680048458561036, 13);
  });
});

describe("fisherExact", () => {
  // stats.fisher_exact(table).pvalue
  test.each([
    [[8, 2, 1, 5], 0.034965034965034975],
    [[3, 0, 0, 3], 0.10000000000000002],
    [[10, 10, 10, 10], 1.0],
    [[0, 5, 5, 0], 0.007936507936507938],
    [[5, 0, 3, 0], 1.0],
    [[40, 10, 25, 25], 0.0030520593364333462],
    [[1, 9, 11, 3], 0.0027594561852200836],
    [[2, 7, 8, 2], 0.02301413756522116],
    [[3, 0, 1, 2], 0.4000000000000001],
  ])("%j", (cells, p) => {
    const [a, b, c, d] = cells as [number, number, number, number];
    close(fisherExact(a, b, c, d), p, 12);
  });

  test("an empty group is null (scipy: 1.0 for [[0, 0], [0, 0]])", () => {
    expect(fisherExact(0, 0, 0, 0)).toBeNull();
    expect(fisherExact(3, 2, 0, 0)).toBeNull();
    expect(fisherExact(5, 0, 3, 0)).toBe(1);
  });
});

describe("welchT and cohensD", () => {
  const a = [0.8, 0.9, 0.85, 0.7, 0.95];
  const b = [0.6, 0.65, 0.7, 0.5];
  const c = [1.2, 3.4, 2.2, 5.1, 0.3, 4.4, 2.9, 3.3, 1.1, 6.0, 2.5];
  const d = [2.0, 2.1, 1.9, 2.05, 1.95, 2.2];

  test("stats.ttest_ind(x, y, equal_var=False): statistic, pvalue, df", () => {
    const r1 = welchT(a, b);
    close(r1.t, 3.7538409144355778);
    close(r1.p_value, 0.007378805159359703);
    close(r1.df, 6.871245577668339);
    const r2 = welchT(c, d);
    close(r2.t, 1.7225963978264665);
    close(r2.p_value, 0.1152701121665901);
    close(r2.df, 10.139170891544177);
  });

  test("Cohen's d, pooled SD (numpy: ((n1-1)var1 + (n2-1)var2) / (n1+n2-2), ddof=1)", () => {
    close(cohensD(a, b), 2.480646960336337);
    close(cohensD(c, d), 0.6377211676283424);
  });

  test("degenerate: constant samples, n = 1, n = 0 (scipy: nan / -inf)", () => {
    expect(welchT([1, 1, 1], [1, 1, 1])).toEqual({ t: null, df: null, p_value: null });
    expect(welchT([1, 1, 1], [2, 2, 2])).toEqual({ t: null, df: null, p_value: null });
    expect(welchT([1], [2, 3])).toEqual({ t: null, df: null, p_value: null });
    expect(welchT([], [])).toEqual({ t: null, df: null, p_value: null });
    expect(cohensD([1, 1, 1], [1, 1])).toBeNull();
    expect(cohensD([], [1, 2])).toBeNull();
    expect(cohensD([1], [2])).toBeNull();
    expect(variance([3])).toBeNull();
  });
});

describe("mannWhitneyU", () => {
  // stats.mannwhitneyu(x, y, method="asymptotic"): statistic (U of x), pvalue
  test.each([
    [[1, 2, 2, 3, 4, 5, 5, 6], [3, 3, 4, 6, 7, 8, 8, 9, 10], 13.0, 0.02947289220529699],
    [[0.8, 0.9, 0.85, 0.7, 0.95], [0.6, 0.65, 0.7, 0.5], 19.5, 0.026843629775969602],
    [
      [1.2, 3.4, 2.2, 5.1, 0.3, 4.4, 2.9, 3.3, 1.1, 6.0, 2.5],
      [2.0, 2.1, 1.9, 2.05, 1.95, 2.2],
      47.5,
      0.15915597452001962,
    ],
    [[10, 9, 8, 7, 6, 3, 1], [5, 4, 2], 16.0, 0.2544505826463366],
  ])("%j vs %j", (x, y, u, p) => {
    const r = mannWhitneyU(x, y);
    close(r.u, u);
    close(r.p_value, p, 12);
  });

  test("all values equal: p 1 as scipy; an empty sample: null", () => {
    expect(mannWhitneyU([1, 1, 1], [1, 1])).toEqual({ u: 3, p_value: 1 });
    expect(mannWhitneyU([], [1, 2])).toEqual({ u: null, p_value: null });
  });
});

describe("effect sizes and F1", () => {
  test("Cohen's h (math: 2 asin sqrt(0.8) - 2 asin sqrt(1/6))", () => {
    close(cohensH(0.8, 1 / 6), 1.3732287650202506, 14);
    expect(cohensH(null, 0.5)).toBeNull();
  });

  test("F1 with no positive at all is null", () => {
    expect(f1Score(3, 1, 2)).toBeCloseTo(2 / 3, 15);
    expect(f1Score(0, 0, 0)).toBeNull();
    expect(f1Score(0, 2, 0)).toBe(0);
  });
});

describe("bootstrap", () => {
  const a = Array.from({ length: 40 }, (_, i) => i % 4 !== 0); // 0.75
  const b = Array.from({ length: 30 }, (_, i) => i % 2 === 0); // 0.5

  test("seeded: the same seed gives the same interval, another seed another", () => {
    const first = accuracyDifferenceInterval(a, b, { seed: 7 });
    expect(accuracyDifferenceInterval(a, b, { seed: 7 })).toEqual(first);
    expect(accuracyDifferenceInterval(a, b, { seed: 8 })).not.toEqual(first);
  });

  test("the interval holds the point estimate and is plausible", () => {
    const ci = accuracyDifferenceInterval(a, b);
    expect(ci).not.toBeNull();
    const [lo, hi] = ci as [number, number];
    expect(lo).toBeLessThan(0.25);
    expect(hi).toBeGreaterThan(0.25);
    // Normal-approximation half width: 1.96 sqrt(.75*.25/40 + .25/30) = 0.2236...
    expect(hi - lo).toBeGreaterThan(0.35);
    expect(hi - lo).toBeLessThan(0.55);
  });

  test("degenerate: constant data collapses, an empty sample is null", () => {
    expect(accuracyDifferenceInterval([true, true], [false])).toEqual([1, 1]);
    expect(accuracyDifferenceInterval([], [true])).toBeNull();
    // A statistic that is never defined gives null, not NaN.
    expect(bootstrapInterval([5], () => null)).toBeNull();
    expect(bootstrapInterval([5], () => Number.NaN)).toBeNull();
  });
});
