/** Stratified samples: label shares kept (or balanced), seeded, source order, never too many. */
import { describe, expect, test } from "vitest";
import { stratifiedSample } from "../../src/datasets/stratified.js";
import type { BenchmarkItem } from "../../src/datasets/types.js";

// 93 benign, 7 harmful: ToxicChat's shape.
const items: BenchmarkItem[] = Array.from({ length: 100 }, (_, i) => ({
  id: `i${i}`,
  prompt: "p",
  shouldRefuse: i % 14 === 3,
  benchmark: "b",
}));
const harmful = (chosen: BenchmarkItem[]) => chosen.filter((i) => i.shouldRefuse).length;

describe("stratifiedSample", () => {
  test("proportional: each label keeps its share (largest remainder)", () => {
    const chosen = stratifiedSample(items, { n: 50, seed: 1, balanced: false });
    expect(chosen).toHaveLength(50);
    // 7 harmful of 100: 3.5 of 50 -> 3 or 4 by remainder; benign 46.5 -> the other.
    expect(harmful(chosen)).toBe(4);
  });

  test("balanced: as equal as the labels allow", () => {
    expect(harmful(stratifiedSample(items, { n: 10, seed: 1, balanced: true }))).toBe(5);
    // Only 7 harmful exist: the rest of 30 comes from the benign ones.
    const many = stratifiedSample(items, { n: 30, seed: 1, balanced: true });
    expect(many).toHaveLength(30);
    expect(harmful(many)).toBe(7);
  });

  test("seeded, in source order, and capped by what exists", () => {
    const a = stratifiedSample(items, { n: 20, seed: 7, balanced: false });
    expect(stratifiedSample(items, { n: 20, seed: 7, balanced: false })).toEqual(a);
    expect(stratifiedSample(items, { n: 20, seed: 8, balanced: false })).not.toEqual(a);
    const order = a.map((i) => Number(i.id.slice(1)));
    expect(order).toEqual([...order].sort((x, y) => x - y));
    expect(stratifiedSample(items, { n: 500, seed: 0, balanced: false })).toHaveLength(100);
  });
});
