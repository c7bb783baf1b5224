import { describe, expect, test } from "vitest";
import type { TraceStats, VotingTrace } from "../../src/engine/types.js";
import {
  confidenceVote,
  consensus,
  offlineAnswers,
  topEta,
  weightedVote,
} from "../../src/engine/voting.js";

const stats = (c: Partial<TraceStats> & { tokens?: number }): TraceStats => ({
  tokens: c.tokens ?? 10,
  mean: c.mean ?? 1,
  lowest: c.lowest ?? 1,
  bottom10: c.bottom10 ?? 1,
  tail: c.tail ?? 1,
});
const trace = (answer: string | null, c: Partial<TraceStats> = {}): VotingTrace => ({
  answer,
  stats: stats(c),
});
const empty = (answer: string): VotingTrace => ({
  answer,
  stats: { tokens: 0, mean: null, lowest: null, bottom10: null, tail: null },
});

describe("weighted vote", () => {
  test("sums weights per answer", () => {
    const result = weightedVote([
      { answer: "a", weight: 1 },
      { answer: "b", weight: 2 },
      { answer: "a", weight: 1.5 },
    ]);
    expect(result.answer).toBe("a");
    expect([...result.votes]).toEqual([
      ["a", 2.5],
      ["b", 2],
    ]);
    expect(result.total).toBe(4.5);
  });

  test("ties go to the answer that appeared first", () => {
    expect(
      weightedVote([
        { answer: "b", weight: 1 },
        { answer: "a", weight: 1 },
      ]).answer,
    ).toBe("b");
    const majority = ["x", "y", "y", "x"].map((answer) => ({ answer, weight: 1 }));
    expect(weightedVote(majority).answer).toBe("x");
  });

  test("null answers do not vote; no ballots means no answer", () => {
    expect(
      weightedVote([
        { answer: null, weight: 9 },
        { answer: "a", weight: 1 },
      ]).answer,
    ).toBe("a");
    expect(weightedVote([]).answer).toBeNull();
  });

  test("consensus is V(best) / sum V", () => {
    const result = weightedVote([
      { answer: "a", weight: 3 },
      { answer: "b", weight: 1 },
    ]);
    expect(consensus(result)).toBe(0.75);
    expect(consensus(weightedVote([]))).toBeNull();
  });
});

describe("top-eta filtering", () => {
  const traces = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((c) => trace(`t${c}`, { tail: c }));

  test("eta 10 keeps the top 10% (>= 90th percentile = 9.1)", () => {
    expect(topEta(traces, "tail", 10).map((t) => t.answer)).toEqual(["t10"]);
  });

  test("eta 90 keeps the top 90% (>= 10th percentile = 1.9)", () => {
    expect(topEta(traces, "tail", 90)).toHaveLength(9);
    expect(topEta(traces, "tail", 90).map((t) => t.answer)).not.toContain("t1");
  });

  test("ties at the cut keep more than eta%", () => {
    const tied = [5, 5, 5, 5, 1].map((c, i) => trace(`t${i}`, { lowest: c }));
    expect(topEta(tied, "lowest", 10)).toHaveLength(4);
  });

  test("empty traces take no part", () => {
    expect(
      topEta([empty("a"), trace("b", { lowest: 2 })], "lowest", 10).map((t) => t.answer),
    ).toEqual(["b"]);
  });
});

describe("offline answers", () => {
  // Majority says "a" (3 traces, little confidence); "b" has two very confident traces.
  const traces: VotingTrace[] = [
    trace("a", { mean: 1, tail: 1, bottom10: 1, lowest: 1 }),
    trace("a", { mean: 1, tail: 1, bottom10: 1, lowest: 1 }),
    trace("a", { mean: 1, tail: 1, bottom10: 9, lowest: 1 }),
    trace("b", { mean: 5, tail: 5, bottom10: 5, lowest: 5 }),
    trace("c", { mean: 1, tail: 9, bottom10: 1, lowest: 1 }),
    empty("c"),
    empty("c"),
    empty("c"),
  ];

  test("each method votes with its own confidence (hand-checked)", () => {
    expect(offlineAnswers(traces, 10)).toEqual({
      majority: "a", // a 3, b 1, c 1 (empty traces do not vote)
      mean_weighted: "b", // a 3, b 5, c 1
      tail_weighted: "c", // a 3, b 5, c 9
      bottom10_weighted: "a", // a 11, b 5, c 1
      lowest_weighted: "b", // a 3, b 5, c 1
      tail_top: "c", // top 10% by tail: c (9)
      bottom10_top: "a", // top 10% by bottom10: the third a (9)
      lowest_top: "b", // top 10% by lowest: b (5)
    });
  });

  test("a weighted answer is never overwritten by the plain majority", () => {
    expect(confidenceVote(traces, "majority").answer).toBe("a");
    expect(confidenceVote(traces, "mean").answer).toBe("b");
  });

  test("no non-empty trace: every answer is null", () => {
    expect(Object.values(offlineAnswers([empty("a")], 10)).every((a) => a === null)).toBe(true);
  });
});
