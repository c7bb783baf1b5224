import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  floorLogprob,
  LOGPROB_FLOOR,
  tokenConfidence,
  tokenConfidenceAt,
} from "../../src/engine/confidence.js";

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("token confidence", () => {
  test("is the negated mean of the top-k log-probs (hand value)", () => {
    // log-probs -1 .. -20: C = (1 + ... + 20) / 20 = 10.5
    expect(tokenConfidence(range(1, 20).map((x) => -x))).toBe(10.5);
  });

  test("sign: a peaked distribution is MORE confident than a flat one", () => {
    const flat = new Array(20).fill(-Math.log(20));
    const peaked = [-0.001, ...new Array(19).fill(-10)];
    expect(tokenConfidence(flat)).toBeCloseTo(Math.log(20), 12);
    expect(tokenConfidence(peaked)).toBeCloseTo((0.001 + 190) / 20, 12);
    expect(tokenConfidence(peaked)).toBeGreaterThan(tokenConfidence(flat));
  });

  test("takes the k largest of a longer row in any order", () => {
    const shuffled = [-7, -1, -20, -3, -12, -2, -5, -4, -9, -6];
    // k = 5 keeps -1 .. -5: C = 15 / 5 = 3
    expect(tokenConfidence(shuffled, 5)).toBe(3);
    expect(tokenConfidence([...shuffled].reverse(), 5)).toBe(3);
  });

  test("floors -Infinity, NaN and anything below -1e4 at -1e4, so C stays finite", () => {
    const row = [...new Array(19).fill(-1), Number.NEGATIVE_INFINITY];
    expect(tokenConfidence(row)).toBe((19 + 1e4) / 20);
    expect(tokenConfidence([...new Array(19).fill(-1), Number.NaN])).toBe((19 + 1e4) / 20);
    expect(tokenConfidence([...new Array(19).fill(-1), -2e4])).toBe((19 + 1e4) / 20);
    expect(floorLogprob(Number.NaN)).toBe(LOGPROB_FLOOR);
    expect(floorLogprob(-0.5)).toBe(-0.5);
  });

  test("NaN in a longer row is floored before the top-k selection", () => {
    // If NaN were kept it would sort unpredictably; floored it is the smallest value.
    expect(tokenConfidence([Number.NaN, -1, -2, -3], 3)).toBe(2);
  });

  test("reads one row of a flat batch buffer at an offset", () => {
    const batch = Float32Array.from([-1, -1, -1, -2, -4, -6]);
    expect(tokenConfidenceAt(batch, 3, 3, 3)).toBe(4);
    expect(tokenConfidenceAt(batch, 0, 3, 3)).toBe(1);
  });

  test("rejects rows with fewer than k values and a bad k", () => {
    expect(() => tokenConfidence([-1, -2], 3)).toThrow(/2 log-probs but top-k needs at least 3/);
    expect(() => tokenConfidence([-1, -2], 0)).toThrow(RangeError);
  });

  test("property: always finite, and >= 0 for valid log-probs", () => {
    const logprob = fc.oneof(
      fc.double({ max: 0, noNaN: true }),
      fc.constant(Number.NEGATIVE_INFINITY),
      fc.constant(Number.NaN),
    );
    fc.assert(
      fc.property(fc.array(logprob, { minLength: 20, maxLength: 30 }), (row) => {
        const c = tokenConfidence(row);
        return Number.isFinite(c) && c >= 0;
      }),
    );
  });
});
