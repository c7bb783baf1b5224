/**
 * The instance's answer from its judged traces, per method. Shared by the live run and by
 * `deepconf rescore`, so re-judging stored texts gives exactly what a run would have given.
 * Online eligibility is the engine's rule: a trace votes iff it ran to its end, is non-empty,
 * has an answer and its lowest group confidence clears the instance's threshold s.
 */
import type { TraceEnd, TraceStats, VotingTrace } from "../engine/types.js";
import { confidenceVote, offlineAnswers, topEta, weightedVote } from "../engine/voting.js";
import type { Method, MethodParams } from "./methods.js";

export interface JudgedTrace {
  answer: string | null;
  stats: TraceStats;
  end: TraceEnd;
}

export interface Decision {
  answer: string | null;
  /** Per trace: did it vote. */
  voted: boolean[];
  /** Mean lowest group confidence of the traces that voted for the answer; null if none. */
  confidence: number | null;
}

function votingTraces(traces: readonly JudgedTrace[]): VotingTrace[] {
  return traces.map(({ answer, stats }) => ({ answer, stats }));
}

export function decide(
  method: Method,
  params: Pick<MethodParams, "eta" | "offlineFilter">,
  traces: readonly JudgedTrace[],
  stopThreshold: number | null,
): Decision {
  let answer: string | null;
  let voted: boolean[];
  const usable = (t: JudgedTrace) => t.answer !== null && t.stats.tokens > 0;
  if (method === "deepconf-low" || method === "deepconf-high") {
    voted = traces.map(
      (t) =>
        usable(t) &&
        t.end === "complete" &&
        t.stats.lowest !== null &&
        (stopThreshold === null || t.stats.lowest >= stopThreshold),
    );
    answer = weightedVote(
      traces
        .filter((_, i) => voted[i])
        .map((t) => ({ answer: t.answer, weight: t.stats.lowest as number })),
    ).answer;
  } else if (method === "baseline") {
    voted = traces.map(usable);
    answer = confidenceVote(votingTraces(traces), "majority").answer;
  } else {
    const kept = new Set(
      topEta(votingTraces(traces), params.offlineFilter, params.eta).map((t) => t.stats),
    );
    voted = traces.map((t) => usable(t) && kept.has(t.stats));
    answer = offlineAnswers(votingTraces(traces), params.eta)[`${params.offlineFilter}_top`];
  }
  const supporters = traces.filter(
    (t, i) => voted[i] && t.answer === answer && t.stats.lowest !== null,
  );
  const confidence =
    supporters.length === 0
      ? null
      : supporters.reduce((sum, t) => sum + (t.stats.lowest as number), 0) / supporters.length;
  return { answer, voted, confidence };
}
