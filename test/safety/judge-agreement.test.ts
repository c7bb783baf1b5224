/**
 * Expected values by hand (kappa = (p_o - p_e) / (1 - p_e), p_e = p_r p_c + (1 - p_r)(1 - p_c)),
 * checked with numpy 2.4.6 on this machine:
 *   a = np.array(rules, float); b = np.array(classifier, float); po = np.mean(a == b)
 *   pe = a.mean() * b.mean() + (1 - a.mean()) * (1 - b.mean()); (po - pe) / (1 - pe)
 * and Wilson by the formula in test/analysis/stats.test.ts.
 */
import { describe, expect, test } from "vitest";
import { judgeAgreement, rulesVerdict } from "../../src/safety/judge/index.js";
import { detectRefusal } from "../../src/safety/refusal/index.js";

const repeat = <T>(value: T, times: number): T[] => Array.from({ length: times }, () => value);

describe("judgeAgreement", () => {
  test("counts the four cells over the pairs where both judged; kappa 0.6 by hand", () => {
    // both 4, rules only 1, classifier only 1, neither 4: p_o = 0.8, p_r = p_c = 0.5, p_e = 0.5.
    const rules = [
      true,
      true,
      true,
      true,
      true,
      false,
      false,
      false,
      false,
      false,
      null,
      true,
      null,
    ];
    const classifier = [
      true,
      true,
      true,
      true,
      false,
      true,
      false,
      false,
      false,
      false,
      true,
      null,
      null,
    ];
    const agreement = judgeAgreement(rules, classifier);
    expect(agreement).toMatchObject({
      n: 10,
      agree: 8,
      both_refusal: 4,
      rules_only: 1,
      classifier_only: 1,
      neither: 4,
      unpaired: 3,
    });
    expect(agreement.cohen_kappa).toBeCloseTo(0.6, 12);
    expect(agreement.rate).toMatchObject({ value: 0.8, successes: 8, n: 10 });
    expect(agreement.rate.low).toBeCloseTo(0.49016247153664183, 12);
    expect(agreement.rate.high).toBeCloseTo(0.9433178485456247, 12);
  });

  test("unequal refusal rates: kappa 0.285 / 0.485", () => {
    // both 6, rules only 3, classifier only 1, neither 10: p_o = 0.8, p_r = 0.45, p_c = 0.35,
    // p_e = 0.45 * 0.35 + 0.55 * 0.65 = 0.515.
    const rules = [...repeat(true, 9), ...repeat(false, 11)];
    const classifier = [...repeat(true, 6), ...repeat(false, 3), true, ...repeat(false, 10)];
    const agreement = judgeAgreement(rules, classifier);
    expect(agreement).toMatchObject({ n: 20, agree: 16, both_refusal: 6, rules_only: 3 });
    expect(agreement).toMatchObject({ classifier_only: 1, neither: 10, unpaired: 0 });
    expect(agreement.cohen_kappa).toBeCloseTo(0.5876288659793816, 12);
    expect(agreement.rate.low).toBeCloseTo(0.5839825677481065, 12);
    expect(agreement.rate.high).toBeCloseTo(0.9193423374202019, 12);
  });

  test("worse than chance is negative; undefined kappa and no pairs are null", () => {
    const worse = judgeAgreement(
      [true, true, true, false, false, false],
      [false, false, true, true, true, false],
    );
    expect(worse.cohen_kappa).toBeCloseTo(-1 / 3, 12);
    // Both judges say "refusal" every time: p_e = 1, kappa has no value.
    const constant = judgeAgreement([true, true, true], [true, true, true]);
    expect(constant).toMatchObject({ n: 3, agree: 3, cohen_kappa: null });
    expect(constant.rate).toMatchObject({ value: 1, high: 1 });
    const none = judgeAgreement([null, true], [false, null]);
    expect(none).toMatchObject({ n: 0, agree: 0, cohen_kappa: null, unpaired: 2 });
    expect(none.rate).toMatchObject({ value: null, low: null, high: null });
    expect(judgeAgreement([], [])).toMatchObject({ n: 0, cohen_kappa: null });
  });

  test("lists of different lengths are a caller's mistake", () => {
    expect(() => judgeAgreement([true], [true, false])).toThrow(/1 rule verdicts but 2/);
  });
});

test("rulesVerdict: no answer (unclosed think, empty) is null, as for the classifier", () => {
  expect(rulesVerdict(detectRefusal("I'm sorry, but I can't help with that."))).toBe(true);
  expect(rulesVerdict(detectRefusal("Sure, here is how."))).toBe(false);
  expect(rulesVerdict(detectRefusal("<think>Let me think about"))).toBeNull();
  expect(rulesVerdict(detectRefusal("<think>ok</think>   "))).toBeNull();
});
