import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ConfidenceMonitor } from "../../src/engine/monitor.js";
import { groupConfidences, stopPoint, traceStats } from "../../src/engine/stats.js";

/** The definitions applied literally: every window's mean from its own slice. */
function naiveGroups(c: number[], n: number): number[] {
  if (c.length === 0) return [];
  if (c.length < n) return [c.reduce((a, b) => a + b, 0) / c.length];
  const groups: number[] = [];
  for (let j = 0; j + n <= c.length; j++)
    groups.push(c.slice(j, j + n).reduce((a, b) => a + b, 0) / n);
  return groups;
}

const confidences = fc.array(fc.double({ min: 0, max: 30, noNaN: true }), { maxLength: 300 });
const geometry = fc.record({
  window: fc.integer({ min: 1, max: 64 }),
  tail: fc.integer({ min: 1, max: 64 }),
});

function feed(monitor: ConfidenceMonitor, c: readonly number[]): number | null {
  for (let i = 0; i < c.length; i++) if (monitor.pushConfidence(c[i] as number)) return i + 1;
  return null;
}

describe("ConfidenceMonitor", () => {
  test("property: without a threshold, incremental stats === batch stats, bit for bit", () => {
    fc.assert(
      fc.property(confidences, geometry, (c, options) => {
        const monitor = new ConfidenceMonitor(options);
        expect(feed(monitor, c)).toBeNull();
        expect(monitor.stats()).toStrictEqual(traceStats(c, options));
      }),
      { numRuns: 300 },
    );
  });

  test("property: stop point and stats at the stop equal the batch ones", () => {
    fc.assert(
      fc.property(
        confidences,
        geometry,
        fc.double({ min: 0, max: 30, noNaN: true }),
        (c, options, threshold) => {
          const monitor = new ConfidenceMonitor({ ...options, threshold });
          const stoppedAt = feed(monitor, c);
          expect(stoppedAt).toBe(stopPoint(c, options.window, threshold));
          expect(monitor.stopped).toBe(stoppedAt !== null);
          expect(monitor.stats()).toStrictEqual(
            traceStats(c.slice(0, stoppedAt ?? c.length), options),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  test("property: batch groups match the literal definition (running sum stays accurate)", () => {
    fc.assert(
      fc.property(confidences, fc.integer({ min: 1, max: 64 }), (c, n) => {
        const fast = [...groupConfidences(c, n)];
        const naive = naiveGroups(c, n);
        expect(fast).toHaveLength(naive.length);
        for (const [j, g] of fast.entries()) expect(g).toBeCloseTo(naive[j] as number, 9);
      }),
      { numRuns: 300 },
    );
  });

  test("reports the current and lowest group only once a window is full", () => {
    const monitor = new ConfidenceMonitor({ window: 3, tail: 3 });
    monitor.pushConfidence(4);
    monitor.pushConfidence(5);
    expect(monitor.currentGroup).toBeNull();
    expect(monitor.lowestSoFar).toBeNull();
    monitor.pushConfidence(6);
    expect(monitor.currentGroup).toBe(5);
    monitor.pushConfidence(1);
    expect(monitor.currentGroup).toBe(4);
    expect(monitor.lowestSoFar).toBe(4);
    expect(monitor.tokens).toBe(4);
  });

  test("a stop fires on the token that completes the first window below s", () => {
    const monitor = new ConfidenceMonitor({ window: 2, tail: 2, threshold: 3 });
    expect([5, 5, 1].map((c) => monitor.pushConfidence(c))).toEqual([false, false, false]);
    expect(monitor.pushConfidence(1)).toBe(true);
    expect(monitor.tokens).toBe(4);
    expect(() => monitor.pushConfidence(9)).toThrow(/stopped after 4 tokens/);
  });

  test("-Infinity log-probs do not poison the window: later low windows still stop", () => {
    // A floored -inf makes one token very confident (C = 500.95); once it leaves the window
    // the running sum must be finite again so the low-confidence tail can stop the trace.
    const k = 20;
    const sharpWithInf = [...new Array(19).fill(-1), Number.NEGATIVE_INFINITY];
    const flat = new Array(k).fill(-Math.log(20));
    const monitor = new ConfidenceMonitor({ window: 2, tail: 2, topk: k, threshold: 4 });
    expect(monitor.pushLogprobs(sharpWithInf)).toBe(false);
    expect(monitor.pushLogprobs(flat)).toBe(false);
    expect(Number.isFinite(monitor.currentGroup)).toBe(true);
    expect(monitor.pushLogprobs(flat)).toBe(true);
    expect(monitor.currentGroup).toBeCloseTo(Math.log(20), 9);
  });

  test("reads rows from a flat batch buffer by offset", () => {
    const batch = Float32Array.from([-1, -1, -3, -3]);
    const monitor = new ConfidenceMonitor({ window: 1, tail: 1, topk: 2 });
    monitor.pushLogprobs(batch, 2, 2);
    expect(monitor.currentGroup).toBe(3);
  });

  test("rejects bad geometry", () => {
    expect(() => new ConfidenceMonitor({ window: 0, tail: 1 })).toThrow(RangeError);
    expect(() => new ConfidenceMonitor({ window: 2, tail: 1.5 })).toThrow(RangeError);
    expect(() => new ConfidenceMonitor({ window: 2, tail: 2, topk: 0 })).toThrow(RangeError);
  });
});
