/**
 * A seeded stratified sample of benchmark items by label (should refuse or not): proportional
 * (each label keeps its share, largest remainder) or balanced (as equal as the labels allow).
 * The chosen items keep their source order, so shards stay contiguous and reproducible.
 */
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import type { BenchmarkItem } from "./types.js";

export interface StratifiedSample {
  n: number;
  seed: number;
  /** Equal numbers per label (as far as each has items) instead of proportional shares. */
  balanced: boolean;
}

/** Fisher-Yates with the seed's xoroshiro128+ stream: the same seed, the same order. */
function shuffled<T>(values: readonly T[], seed: number): T[] {
  const rng = xoroshiro128plus(seed);
  const out = [...values];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(uniformFloat64(rng) * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** How many of each group: shares by size (largest remainder) or balanced, capped by size. */
function quotas(sizes: number[], n: number, balanced: boolean): number[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  const want = Math.min(n, total);
  if (balanced) {
    const take = sizes.map(() => 0);
    let left = want;
    // Hand out one at a time to the groups that still have items, smallest take first.
    while (left > 0) {
      let best = -1;
      sizes.forEach((size, g) => {
        if (
          (take[g] as number) < size &&
          (best < 0 || (take[g] as number) < (take[best] as number))
        )
          best = g;
      });
      take[best] = (take[best] as number) + 1;
      left--;
    }
    return take;
  }
  const exact = sizes.map((size) => (want * size) / total);
  const take = exact.map(Math.floor);
  let left = want - take.reduce((a, b) => a + b, 0);
  const order = exact
    .map((x, g) => ({ g, rest: x - Math.floor(x) }))
    .sort((a, b) => b.rest - a.rest || a.g - b.g);
  for (const { g } of order) {
    if (left === 0) break;
    take[g] = (take[g] as number) + 1;
    left--;
  }
  return take;
}

export function stratifiedSample(
  items: readonly BenchmarkItem[],
  sample: StratifiedSample,
): BenchmarkItem[] {
  const groups = [items.filter((i) => i.shouldRefuse), items.filter((i) => !i.shouldRefuse)];
  const take = quotas(
    groups.map((g) => g.length),
    sample.n,
    sample.balanced,
  );
  const chosen = new Set<BenchmarkItem>();
  groups.forEach((group, g) => {
    for (const item of shuffled(group, sample.seed + g).slice(0, take[g])) chosen.add(item);
  });
  return items.filter((item) => chosen.has(item));
}
