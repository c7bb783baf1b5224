import { describe, expect, test } from "vitest";
import { VARIANT_ETA } from "../../src/engine/online.js";
import { etaThreshold, percentile } from "../../src/engine/percentile.js";

// Reference values from numpy.percentile (default method "linear"), numpy 2.4.
describe("percentile (numpy linear)", () => {
  test("hand values", () => {
    expect(percentile([1, 2, 3, 4], 90)).toBe(3.7);
    expect(percentile([4, 3, 2, 1], 10)).toBe(1.3);
    expect(percentile([7], 37)).toBe(7);
  });

  test("bit-exact with numpy's two-sided lerp", () => {
    // a + (b-a)*g would give 0.6000000000000001 here; numpy gives 0.6
    expect(percentile([0.1, 0.7, 0.2], 90)).toBe(0.6);
    expect(percentile([0.1, 0.7, 0.2], 10)).toBe(0.12000000000000001);
    const v = [16.122757, 2.333005, 11.254297, 8.296691, 8.642052, 9.353209, 3.940042];
    const numpy: Array<[number, number]> = [
      [0, 2.333005],
      [10, 3.2972272],
      [33.3, 8.287977701999997],
      [50, 8.642052],
      [90, 13.201681],
      [97.5, 15.392487999999998],
      [100, 16.122757],
    ];
    for (const [q, expected] of numpy) expect(percentile(v, q)).toBe(expected);
  });

  test("ties at the percentile", () => {
    expect(percentile([5, 5, 5, 1], 90)).toBe(5);
    expect(percentile([5, 5, 5, 1], 10)).toBeCloseTo(2.2, 12);
  });

  test("rejects an empty set and q outside [0, 100]", () => {
    expect(() => percentile([], 50)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });
});

describe("eta threshold direction", () => {
  const lowest = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

  test("variant names map to eta: low keeps 10%, high keeps 90%", () => {
    expect(VARIANT_ETA).toEqual({ low: 10, high: 90 });
  });

  test("DeepConf-low (eta 10) is the 90th percentile: aggressive, high threshold", () => {
    expect(etaThreshold(lowest, VARIANT_ETA.low)).toBeCloseTo(9.1, 12);
  });

  test("DeepConf-high (eta 90) is the 10th percentile: conservative, low threshold", () => {
    expect(etaThreshold(lowest, VARIANT_ETA.high)).toBeCloseTo(1.9, 12);
  });

  test("low stops more than high: its threshold is never below high's", () => {
    expect(etaThreshold(lowest, 10)).toBeGreaterThan(etaThreshold(lowest, 90));
  });
});
