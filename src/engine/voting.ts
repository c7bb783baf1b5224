/** Weighted voting and top-eta filtering over traces (offline DeepConf). */
import { etaThreshold } from "./percentile.js";
import type { ConfidenceKind, FilterKind, VotingTrace } from "./types.js";

export interface Ballot {
  answer: string | null;
  weight: number;
}

export interface VoteResult {
  /** Winning answer, or null when nobody voted. */
  answer: string | null;
  /** V(a) per answer, in order of first appearance. */
  votes: Map<string, number>;
  /** Sum of all weights. */
  total: number;
}

/** V(a) = sum of weights of ballots for a; argmax V, ties to the answer that appeared first. */
export function weightedVote(ballots: Iterable<Ballot>): VoteResult {
  const votes = new Map<string, number>();
  let total = 0;
  for (const { answer, weight } of ballots) {
    if (answer === null) continue;
    votes.set(answer, (votes.get(answer) ?? 0) + weight);
    total += weight;
  }
  let answer: string | null = null;
  let best = Number.NEGATIVE_INFINITY;
  for (const [candidate, value] of votes) {
    if (value > best) {
      best = value;
      answer = candidate;
    }
  }
  return { answer, votes, total };
}

/** Share of the winning answer, V(best) / sum V; null when there are no (positive) votes. */
export function consensus(result: VoteResult): number | null {
  if (result.answer === null || !(result.total > 0)) return null;
  return (result.votes.get(result.answer) as number) / result.total;
}

/** Traces that can vote at all: non-empty ones (an empty trace has no confidences). */
function nonEmpty(traces: readonly VotingTrace[]): VotingTrace[] {
  return traces.filter((trace) => trace.stats.tokens > 0);
}

function confidenceOf(trace: VotingTrace, kind: ConfidenceKind): number {
  return trace.stats[kind] as number;
}

/** Vote weighted by a trace confidence; kind "majority" weights every trace 1. */
export function confidenceVote(
  traces: readonly VotingTrace[],
  kind: ConfidenceKind | "majority",
): VoteResult {
  return weightedVote(
    nonEmpty(traces).map((trace) => ({
      answer: trace.answer,
      weight: kind === "majority" ? 1 : confidenceOf(trace, kind),
    })),
  );
}

/** Keeps traces whose confidence >= percentile_{100-eta} of all; ties can keep more than eta%. */
export function topEta(
  traces: readonly VotingTrace[],
  kind: FilterKind,
  eta: number,
): VotingTrace[] {
  const candidates = nonEmpty(traces);
  if (candidates.length === 0) return [];
  const cut = etaThreshold(
    candidates.map((trace) => confidenceOf(trace, kind)),
    eta,
  );
  return candidates.filter((trace) => confidenceOf(trace, kind) >= cut);
}

export interface OfflineAnswers {
  majority: string | null;
  mean_weighted: string | null;
  tail_weighted: string | null;
  bottom10_weighted: string | null;
  lowest_weighted: string | null;
  tail_top: string | null;
  bottom10_top: string | null;
  lowest_top: string | null;
}

/** Every offline method of the paper over complete traces; filtered ones keep the top eta%. */
export function offlineAnswers(traces: readonly VotingTrace[], eta: number): OfflineAnswers {
  const filtered = (kind: FilterKind) => confidenceVote(topEta(traces, kind, eta), kind).answer;
  return {
    majority: confidenceVote(traces, "majority").answer,
    mean_weighted: confidenceVote(traces, "mean").answer,
    tail_weighted: confidenceVote(traces, "tail").answer,
    bottom10_weighted: confidenceVote(traces, "bottom10").answer,
    lowest_weighted: confidenceVote(traces, "lowest").answer,
    tail_top: filtered("tail"),
    bottom10_top: filtered("bottom10"),
    lowest_top: filtered("lowest"),
  };
}
