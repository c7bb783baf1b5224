import { describe, expect, test } from "vitest";
import { sampleIndex, traceRandom } from "../../src/inference/sampling.js";

const logprobs = Float32Array.from([0.5, 0.3, 0.15, 0.05].map(Math.log));
const sampling = { greedy: false, temperature: 1, topP: 1, topK: 20 };

function histogram(options: typeof sampling, draws = 20_000, values: ArrayLike<number> = logprobs) {
  const random = traceRandom(7, 0);
  const counts = new Array(values.length).fill(0);
  for (let i = 0; i < draws; i++) counts[sampleIndex(values, 0, values.length, options, random)]++;
  return counts.map((c) => c / draws);
}

describe("sampling from top-k log-probs", () => {
  test("greedy takes the best candidate", () => {
    expect(sampleIndex(logprobs, 0, 4, { ...sampling, greedy: true }, () => 0.99)).toBe(0);
  });

  test("temperature 1 follows the probabilities", () => {
    const freq = histogram(sampling);
    [0.5, 0.3, 0.15, 0.05].forEach((p, i) => {
      expect(freq[i]).toBeCloseTo(p, 1);
    });
  });

  test("a low temperature sharpens, a high one flattens", () => {
    expect(histogram({ ...sampling, temperature: 0.3 })[0]).toBeGreaterThan(0.8);
    expect(histogram({ ...sampling, temperature: 5 })[0]).toBeLessThan(0.4);
  });

  test("top-p keeps the shortest prefix whose mass reaches p", () => {
    const freq = histogram({ ...sampling, topP: 0.8 });
    expect(freq[2]).toBe(0);
    expect(freq[3]).toBe(0);
    expect(freq[0]).toBeCloseTo(0.5 / 0.8, 1);
  });

  test("top-k cuts before top-p", () => {
    expect(histogram({ ...sampling, topK: 1 })).toEqual([1, 0, 0, 0]);
  });

  test("reads candidates at an offset of a batch buffer", () => {
    const batch = Float32Array.from([0, -50, -50, -50, -50, -50, -50, 0]);
    expect(sampleIndex(batch, 4, 4, sampling, () => 0.5)).toBe(3);
  });
});

describe("per-trace random streams", () => {
  test("same seed and trace: same draws; another trace or seed: different", () => {
    const draws = (seed: number, trace: number) => {
      const random = traceRandom(seed, trace);
      return Array.from({ length: 5 }, random);
    };
    expect(draws(1, 3)).toEqual(draws(1, 3));
    expect(draws(1, 3)).not.toEqual(draws(1, 4));
    expect(draws(1, 3)).not.toEqual(draws(2, 3));
  });
});
