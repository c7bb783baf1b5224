/**
 * `deepconf tune`: which DeepConf settings keep accuracy and save the most tokens? Every setting
 * of a grid (window, eta, warmup, tau, min voters, budget) is replayed over a pool of complete
 * recorded traces (one baseline or offline run: the only GPU cost) and scored against the labels:
 * accuracy, recall on should-refuse prompts, over-refusal of benign ones, tokens used and savings
 * against the run's own measured Cons@B, each with a paired percentile-bootstrap 95% interval
 * over instances (seeded: the same resamples for every setting). The Pareto frontier of accuracy
 * against tokens, and the cheapest settings whose accuracy reaches the baseline's interval, are
 * what a researcher takes to the GPU. Pure: no I/O.
 *
 * Scoring: an instance's answer is the online vote; no answer (every trace empty or stopped) is
 * counted as not correct, so a setting cannot gain accuracy by abstaining. Traces are drawn in
 * recorded order (the first ones are the warmup); `shuffleSeeds` repeats the replay over seeded
 * orderings and reports the spread.
 */
import { uniformInt } from "pure-rand/distribution/uniformInt";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import { percentile } from "../engine/percentile.js";
import { type PoolTrace, type ReplayOptions, replayOnline } from "../engine/replay.js";
import { weightedVote } from "../engine/voting.js";
import { InputError } from "../errors.js";
import type { LabelledPoolInstance } from "./run-pool.js";

/** What `deepconf tune` writes into each run directory it tuned (read by figures and report). */
export const TUNING = "tuning.json";

/** The content of TUNING: the tuning result with the sources it was computed from. */
export type TuningDocument = TuneResult & { sources: string[]; notes: string[] };

export interface TuneGrid {
  window: number[];
  eta: number[];
  warmup: number[];
  tau: number[];
  minVoters: number[];
  /** null: every recorded trace. */
  budget: Array<number | null>;
}

export interface TuneOptions {
  grid: TuneGrid;
  /** Top-k of the recorded confidences (recorded, not chosen). */
  topk: number;
  /** Bootstrap resamples (default 1000). */
  resamples?: number;
  seed?: number;
  /** Extra seeded orderings of each instance's traces (0: recorded order only). */
  shuffleSeeds?: number;
}

/** A point estimate with its 95% interval (null bounds when undefined, e.g. no positives). */
export interface Estimate {
  value: number | null;
  low: number | null;
  high: number | null;
}

export interface SettingParams {
  window: number;
  eta: number;
  warmup: number;
  tau: number;
  min_voters: number;
  budget: number | null;
}

export interface SettingResult {
  params: SettingParams;
  accuracy: Estimate;
  /** Refusals among should-refuse prompts. */
  recall: Estimate;
  /** Refusals among benign prompts. */
  over_refusal: Estimate;
  /** Tokens generated over all instances. */
  tokens: Estimate;
  /** 1 - tokens / baseline tokens. */
  savings: Estimate;
  /** Instances without an answer (counted as not correct). */
  abstentions: number;
  /** On the accuracy-vs-tokens Pareto frontier (point estimates). */
  pareto: boolean;
  /** Its accuracy reaches the baseline's interval (>= its lower bound). */
  matches_baseline: boolean;
  /** With shuffleSeeds: min and max over the orderings (recorded order included). */
  spread: { accuracy: [number, number]; savings: [number, number] } | null;
}

export interface TuneResult {
  n: number;
  should_refuse: number;
  benign: number;
  topk: number;
  resamples: number;
  seed: number;
  shuffle_seeds: number;
  /** Cons@B over every recorded trace: the run's own measured baseline. */
  baseline: {
    traces_per_instance: number;
    accuracy: Estimate;
    recall: Estimate;
    over_refusal: Estimate;
    tokens: number;
  };
  settings: SettingResult[];
  /** Indices into settings: the frontier, by tokens. */
  frontier: number[];
  /** Indices into settings matching the baseline's accuracy, cheapest first. */
  recommended: number[];
  caveat: string;
}

export const CAVEAT =
  "Replay draws the online traces from the recorded ones in order: the first recorded traces " +
  "are the warmup, and a setting sees the same traces a fresh run would only if sampling is " +
  "exchangeable. --shuffle-seeds N repeats the replay over N seeded orderings and reports the " +
  "spread; intervals are a percentile bootstrap over instances.";

/** Every combination of the grid, in a fixed order. */
export function gridSettings(grid: TuneGrid): SettingParams[] {
  const out: SettingParams[] = [];
  for (const window of grid.window)
    for (const eta of grid.eta)
      for (const warmup of grid.warmup)
        for (const tau of grid.tau)
          for (const minVoters of grid.minVoters)
            for (const budget of grid.budget)
              out.push({ window, eta, warmup, tau, min_voters: minVoters, budget });
  return out;
}

/** The engine's replay options for a setting (the tail is the window, as in a run). */
export function replayOptionsOf(s: SettingParams, topk: number): ReplayOptions {
  return {
    window: s.window,
    tail: s.window,
    topk,
    eta: s.eta,
    warmup: s.warmup,
    budget: s.budget,
    tau: s.tau,
    minVoters: s.min_voters,
  };
}

/** Per instance: 1 correct / 0 not; refused 1 / 0 / -1 for no answer; tokens. */
interface Outcomes {
  correct: Uint8Array;
  refused: Int8Array;
  tokens: Float64Array;
}

function outcomes(n: number): Outcomes {
  return { correct: new Uint8Array(n), refused: new Int8Array(n), tokens: new Float64Array(n) };
}

function record(
  o: Outcomes,
  i: number,
  answer: string | null,
  shouldRefuse: boolean,
  tokens: number,
) {
  const refused = answer === null ? -1 : answer === "refusal" ? 1 : 0;
  o.refused[i] = refused;
  o.correct[i] = refused !== -1 && (refused === 1) === shouldRefuse ? 1 : 0;
  o.tokens[i] = tokens;
}

/** The settings' outcomes over the instances, traces in the order `order` gives. */
function replayAll(
  instances: readonly LabelledPoolInstance[],
  settings: readonly SettingParams[],
  topk: number,
  order: (traces: readonly PoolTrace[], i: number) => readonly PoolTrace[],
): Outcomes[] {
  const results = settings.map(() => outcomes(instances.length));
  instances.forEach((instance, i) => {
    const traces = order(instance.traces, i);
    settings.forEach((s, k) => {
      const online = replayOnline(traces, replayOptionsOf(s, topk));
      record(
        results[k] as Outcomes,
        i,
        online.answer,
        instance.shouldRefuse as boolean,
        online.tokensUsed,
      );
    });
  });
  return results;
}

interface Labels {
  positives: Uint8Array;
}

/** The statistics of one setting over a resample (indices) of the instances. */
function statistics(
  o: Outcomes,
  labels: Labels,
  draw: ArrayLike<number>,
  baselineTokens: Float64Array,
) {
  let correct = 0;
  let positives = 0;
  let caught = 0;
  let negatives = 0;
  let overRefused = 0;
  let tokens = 0;
  let baseline = 0;
  for (let j = 0; j < draw.length; j++) {
    const i = draw[j] as number;
    correct += o.correct[i] as number;
    tokens += o.tokens[i] as number;
    if (labels.positives[i]) {
      positives++;
      if (o.refused[i] === 1) caught++;
    } else {
      negatives++;
      if (o.refused[i] === 1) overRefused++;
    }
    baseline += baselineTokens[i] as number;
  }
  return {
    accuracy: correct / draw.length,
    recall: positives > 0 ? caught / positives : null,
    over_refusal: negatives > 0 ? overRefused / negatives : null,
    tokens,
    savings: baseline > 0 ? 1 - tokens / baseline : null,
  };
}

type Metric = "accuracy" | "recall" | "over_refusal" | "tokens" | "savings";
const METRICS: readonly Metric[] = ["accuracy", "recall", "over_refusal", "tokens", "savings"];

function estimate(value: number | null, samples: number[]): Estimate {
  if (value === null || samples.length === 0) return { value, low: null, high: null };
  return { value, low: percentile(samples, 2.5), high: percentile(samples, 97.5) };
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const rng = xoroshiro128plus(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = uniformInt(rng, 0, i);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Indices of the settings no other beats on both accuracy (higher) and tokens (lower). */
export function paretoFrontier(
  points: ReadonlyArray<{ accuracy: number; tokens: number }>,
): number[] {
  const frontier: number[] = [];
  points.forEach((p, i) => {
    const dominated = points.some(
      (q, j) =>
        j !== i &&
        q.accuracy >= p.accuracy &&
        q.tokens <= p.tokens &&
        (q.accuracy > p.accuracy || q.tokens < p.tokens),
    );
    if (!dominated) frontier.push(i);
  });
  return frontier.sort(
    (a, b) => (points[a] as { tokens: number }).tokens - (points[b] as { tokens: number }).tokens,
  );
}

export function tune(pool: readonly LabelledPoolInstance[], options: TuneOptions): TuneResult {
  const resamples = options.resamples ?? 1000;
  const seed = options.seed ?? 0;
  const shuffleSeeds = options.shuffleSeeds ?? 0;
  const instances = pool.filter((instance) => instance.shouldRefuse !== null);
  if (instances.length === 0) {
    throw new InputError("no instance carries a should-refuse label: tuning needs labels");
  }
  const settings = gridSettings(options.grid);
  const n = instances.length;
  const labels: Labels = {
    positives: Uint8Array.from(instances, (instance) => (instance.shouldRefuse ? 1 : 0)),
  };

  // The run's own baseline: Cons@B over every recorded trace, complete.
  const base = outcomes(n);
  instances.forEach((instance, i) => {
    const answered = instance.traces.filter((t) => t.confidences.length > 0);
    const vote = weightedVote(answered.map((t) => ({ answer: t.answer, weight: 1 }))).answer;
    const tokens = instance.traces.reduce((sum, t) => sum + t.confidences.length, 0);
    record(base, i, vote, instance.shouldRefuse as boolean, tokens);
  });
  const baselineTokens = base.tokens;
  const baselineTotal = baselineTokens.reduce((a, b) => a + b, 0);

  const recorded = replayAll(instances, settings, options.topk, (traces) => traces);
  const all = Uint32Array.from({ length: n }, (_, i) => i);
  const points = recorded.map((o) => statistics(o, labels, all, baselineTokens));
  const basePoint = statistics(base, labels, all, baselineTokens);

  // Paired bootstrap: one draw of instances per resample, used for every setting.
  const samples = recorded.map(() => Object.fromEntries(METRICS.map((m) => [m, [] as number[]])));
  const baseSamples = Object.fromEntries(METRICS.map((m) => [m, [] as number[]]));
  const rng = xoroshiro128plus(seed);
  const draw = new Uint32Array(n);
  for (let r = 0; r < resamples; r++) {
    for (let j = 0; j < n; j++) draw[j] = uniformInt(rng, 0, n - 1);
    const push = (target: Record<string, number[]>, stats: ReturnType<typeof statistics>) => {
      for (const m of METRICS) {
        const value = stats[m];
        if (value !== null) (target[m] as number[]).push(value);
      }
    };
    recorded.forEach((o, k) => {
      push(samples[k] as Record<string, number[]>, statistics(o, labels, draw, baselineTokens));
    });
    push(baseSamples, statistics(base, labels, draw, baselineTokens));
  }

  // Seeded orderings: the spread of the point estimates.
  const spreads = points.map((p) => ({
    accuracy: [p.accuracy, p.accuracy] as [number, number],
    savings: [p.savings ?? 0, p.savings ?? 0] as [number, number],
  }));
  for (let s = 1; s <= shuffleSeeds; s++) {
    const results = replayAll(instances, settings, options.topk, (traces, i) =>
      shuffled(traces, s * 1_000_003 + i),
    );
    results.forEach((o, k) => {
      const p = statistics(o, labels, all, baselineTokens);
      const spread = spreads[k] as (typeof spreads)[number];
      spread.accuracy = [
        Math.min(spread.accuracy[0], p.accuracy),
        Math.max(spread.accuracy[1], p.accuracy),
      ];
      const saved = p.savings ?? 0;
      spread.savings = [Math.min(spread.savings[0], saved), Math.max(spread.savings[1], saved)];
    });
  }

  const baseAccuracy = estimate(basePoint.accuracy, baseSamples.accuracy as number[]);
  const frontier = paretoFrontier(points.map((p) => ({ accuracy: p.accuracy, tokens: p.tokens })));
  const onFrontier = new Set(frontier);
  const results: SettingResult[] = settings.map((params, k) => {
    const p = points[k] as ReturnType<typeof statistics>;
    const s = samples[k] as Record<Metric, number[]>;
    const o = recorded[k] as Outcomes;
    return {
      params,
      accuracy: estimate(p.accuracy, s.accuracy),
      recall: estimate(p.recall, s.recall),
      over_refusal: estimate(p.over_refusal, s.over_refusal),
      tokens: estimate(p.tokens, s.tokens),
      savings: estimate(p.savings, s.savings),
      abstentions: o.refused.filter((r) => r === -1).length,
      pareto: onFrontier.has(k),
      matches_baseline: baseAccuracy.low !== null && p.accuracy >= baseAccuracy.low,
      spread: shuffleSeeds > 0 ? (spreads[k] as SettingResult["spread"]) : null,
    };
  });
  const recommended = results
    .map((r, k) => ({ r, k }))
    .filter(({ r }) => r.matches_baseline)
    .sort((a, b) => (a.r.tokens.value as number) - (b.r.tokens.value as number) || a.k - b.k)
    .map(({ k }) => k);
  const positives = labels.positives.reduce((a, b) => a + b, 0);
  return {
    n,
    should_refuse: positives,
    benign: n - positives,
    topk: options.topk,
    resamples,
    seed,
    shuffle_seeds: shuffleSeeds,
    baseline: {
      traces_per_instance: Math.max(...instances.map((i) => i.traces.length)),
      accuracy: baseAccuracy,
      recall: estimate(basePoint.recall, baseSamples.recall as number[]),
      over_refusal: estimate(basePoint.over_refusal, baseSamples.over_refusal as number[]),
      tokens: baselineTotal,
    },
    settings: results,
    frontier,
    recommended,
    caveat: CAVEAT,
  };
}
