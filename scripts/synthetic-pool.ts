/**
 * Seeded synthetic trace pools for the example file and the engine benchmark. Not a model of any
 * real LLM: a trace gets a hidden quality u; better traces have sharper top-k distributions (higher
 * confidence), fewer hesitation dips and more often the instance's right answer, so confidence
 * carries signal the way DeepConf assumes.
 */
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";

export interface SyntheticOptions {
  seed: number;
  instances: number;
  tracesPerInstance: number;
  minTokens: number;
  maxTokens: number;
  topk: number;
  answers: readonly string[];
}

export interface SyntheticTrace {
  instanceId: string;
  traceId: string;
  answer: string;
  /** Top-k log-probs, flat [tokens * topk], each row in descending order. */
  logprobs: Float64Array;
  tokens: number;
}

export function seededRandom(seed: number) {
  const rng = xoroshiro128plus(seed);
  const uniform = () => uniformFloat64(rng);
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return {
    uniform,
    normal,
    integer: (lo: number, hi: number) => lo + Math.floor(uniform() * (hi - lo + 1)),
  };
}

/** Writes one position's descending top-k log-probs into out[offset ..). */
function fillPosition(
  out: Float64Array,
  offset: number,
  k: number,
  sharpness: number,
  normal: () => number,
) {
  let max = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < k; j++) {
    const z = -sharpness * j * 0.5 + 0.3 * normal();
    out[offset + j] = z;
    if (z > max) max = z;
  }
  let total = 0;
  for (let j = 0; j < k; j++) total += Math.exp((out[offset + j] as number) - max);
  // The rest of the vocabulary holds a little mass, so even the top-1 log-prob stays below 0.
  const logNorm = max + Math.log(total * 1.02);
  const row = out.subarray(offset, offset + k);
  for (let j = 0; j < k; j++) row[j] = (row[j] as number) - logNorm;
  row.sort().reverse();
}

export function* syntheticPool(options: SyntheticOptions): Generator<SyntheticTrace> {
  const { uniform, normal, integer } = seededRandom(options.seed);
  const { topk: k, answers } = options;
  for (let i = 0; i < options.instances; i++) {
    const instanceId = `q${String(i + 1).padStart(3, "0")}`;
    const right = integer(0, answers.length - 1);
    const difficulty = uniform();
    for (let t = 0; t < options.tracesPerInstance; t++) {
      const quality = uniform();
      const correct = uniform() < 0.3 + 0.6 * quality * (1 - 0.5 * difficulty);
      const wrong = (right + integer(1, answers.length - 1)) % answers.length;
      const tokens = integer(options.minTokens, options.maxTokens);
      const logprobs = new Float64Array(tokens * k);
      const base = 0.6 + 2.4 * quality;
      let dip = 0;
      for (let p = 0; p < tokens; p++) {
        if (dip === 0 && uniform() < 0.02 * (1.5 - quality)) dip = integer(6, 24);
        const damp = dip > 0 ? 0.35 : 1;
        if (dip > 0) dip--;
        fillPosition(logprobs, p * k, k, base * damp * Math.exp(0.25 * normal()), normal);
      }
      yield {
        instanceId,
        traceId: `${instanceId}-t${String(t).padStart(2, "0")}`,
        answer: answers[correct ? right : wrong] as string,
        logprobs,
        tokens,
      };
    }
  }
}
