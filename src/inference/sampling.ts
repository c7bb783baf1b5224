/**
 * Token choice from a position's top-k log-probs (the augmented graph returns only those).
 * Sampling follows Hugging Face's warper order: temperature, then top-k, then top-p, over the
 * top-k candidates; with Qwen3's defaults (top_k 20, top_p 0.8-0.95) the mass outside the top
 * 20 is negligible. Confidence never uses these warped values: it reads the raw log-probs.
 */
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import type { JumpableRandomGenerator } from "pure-rand/types/JumpableRandomGenerator";

export interface SamplingOptions {
  /** Always take the most likely token (ignores the other fields). */
  greedy: boolean;
  temperature: number;
  /** Keep the smallest set of most likely tokens whose probability reaches top_p. */
  topP: number;
  /** Keep at most this many most likely tokens (<= the graph's k). */
  topK: number;
}

export const QWEN3_SAMPLING = {
  thinking: { greedy: false, temperature: 0.6, topP: 0.95, topK: 20 },
  plain: { greedy: false, temperature: 0.7, topP: 0.8, topK: 20 },
} as const satisfies Record<string, SamplingOptions>;

export type Random = () => number;

/**
 * The random stream of trace `index` under `seed`: the seed's xoroshiro128+ stream jumped
 * `index` times (2^64 steps each), so traces never share draws and a trace's samples do not
 * depend on which other traces share its batch.
 */
export function traceRandom(seed: number, index: number): Random {
  const rng: JumpableRandomGenerator = xoroshiro128plus(seed);
  for (let i = 0; i < index; i++) rng.jump();
  return () => uniformFloat64(rng);
}

/**
 * Picks one of the candidates values[offset .. offset+count), which hold log-probs sorted in
 * descending order (as TopK returns them). Returns the index within the candidates (0 = best).
 */
export function sampleIndex(
  values: ArrayLike<number>,
  offset: number,
  count: number,
  options: SamplingOptions,
  random: Random,
): number {
  if (options.greedy || count === 1) return 0;
  const keep = Math.min(count, Math.max(1, options.topK));
  const top = values[offset] as number;
  // Unnormalised probabilities after temperature, relative to the best candidate for stability.
  const weights = new Float64Array(keep);
  let total = 0;
  for (let i = 0; i < keep; i++) {
    const w = Math.exp(((values[offset + i] as number) - top) / options.temperature);
    weights[i] = w;
    total += w;
  }
  // Top-p: the shortest prefix whose mass reaches top_p (always at least one candidate).
  let cut = keep;
  if (options.topP < 1) {
    let mass = 0;
    for (let i = 0; i < keep; i++) {
      mass += (weights[i] as number) / total;
      if (mass >= options.topP) {
        cut = i + 1;
        break;
      }
    }
  }
  let kept = 0;
  for (let i = 0; i < cut; i++) kept += weights[i] as number;
  let draw = random() * kept;
  for (let i = 0; i < cut; i++) {
    draw -= weights[i] as number;
    if (draw < 0) return i;
  }
  return cut - 1;
}
