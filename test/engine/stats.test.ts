import { describe, expect, test } from "vitest";
import {
  bottomTenPercent,
  groupConfidences,
  stopPoint,
  traceStats,
} from "../../src/engine/stats.js";

const seq = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("group confidences", () => {
  test("stride-1 windows of n (hand values)", () => {
    expect([...groupConfidences([1, 2, 3, 4, 5], 2)]).toEqual([1.5, 2.5, 3.5, 4.5]);
    expect([...groupConfidences([1, 2, 3, 4, 5], 5)]).toEqual([3]);
  });

  test("L < n: exactly one group, the mean", () => {
    expect([...groupConfidences([2, 4, 9], 5)]).toEqual([5]);
  });

  test("L = 0: no groups", () => {
    expect(groupConfidences([], 4).length).toBe(0);
  });
});

describe("trace statistics", () => {
  test("L > n (hand values)", () => {
    expect(traceStats([1, 2, 3, 4, 5], { window: 2, tail: 2 })).toEqual({
      tokens: 5,
      mean: 3,
      lowest: 1.5,
      bottom10: 1.5, // 4 groups: m = max(1, floor(0.4)) = 1
      tail: 4.5, // last 2 tokens
    });
  });

  test("L = n: one group over the whole trace", () => {
    expect(traceStats([2, 4, 9], { window: 3, tail: 2 })).toEqual({
      tokens: 3,
      mean: 5,
      lowest: 5,
      bottom10: 5,
      tail: 6.5,
    });
  });

  test("L < n: one group (the mean); tail covers min(L, t) tokens", () => {
    expect(traceStats([2, 4, 9], { window: 8, tail: 8 })).toEqual({
      tokens: 3,
      mean: 5,
      lowest: 5,
      bottom10: 5,
      tail: 5,
    });
  });

  test("L = 0: every confidence is null", () => {
    expect(traceStats([], { window: 4, tail: 4 })).toEqual({
      tokens: 0,
      mean: null,
      lowest: null,
      bottom10: null,
      tail: null,
    });
  });

  test("bottom-10% averages the m = max(1, floor(#groups/10)) smallest groups", () => {
    expect(bottomTenPercent(seq(1, 19).reverse())).toBe(1); // 19 groups: m = 1
    expect(bottomTenPercent(seq(1, 20).reverse())).toBe(1.5); // 20 groups: m = 2
    expect(bottomTenPercent(seq(1, 30))).toBe(2); // 30 groups: m = 3, mean(1, 2, 3)
    expect(bottomTenPercent([])).toBeNull();
  });

  test("lowest is the smallest window, not the smallest token", () => {
    // The single 0 is diluted by its window: groups (n=2) 5, 2.5, 2.5, 5
    expect(traceStats([5, 5, 0, 5, 5], { window: 2, tail: 2 }).lowest).toBe(2.5);
  });
});

describe("stop point", () => {
  test("stops after token j+n-1 of the first full window strictly below s", () => {
    // n = 2: groups 5, 3, 1, 3. G_1 = 3 is not below s = 3; G_2 = 1 is: 2 + 2 = 4 tokens used.
    expect(stopPoint([5, 5, 1, 1, 5], 2, 3)).toBe(4);
    expect(stopPoint([5, 5, 1, 1, 5], 2, 1)).toBeNull();
  });

  test("a trace shorter than the window is never stopped", () => {
    expect(stopPoint([0.1, 0.1], 3, 100)).toBeNull();
  });

  test("the first window can stop the trace", () => {
    expect(stopPoint([1, 1, 9, 9], 2, 2)).toBe(2);
  });
});
