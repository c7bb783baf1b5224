/** Plain records shared by the DeepConf engine. Definitions: docs/engine.md. */

/** Confidence summaries of one trace. All null for an empty trace (L = 0). */
export interface TraceStats {
  /** Number of generated tokens L. */
  tokens: number;
  /** Mean of all token confidences C_i. */
  mean: number | null;
  /** Lowest sliding-window group confidence (the online stop signal). */
  lowest: number | null;
  /** Mean of the lowest 10% of group confidences (at least one group). */
  bottom10: number | null;
  /** Mean of the last min(L, t) token confidences. */
  tail: number | null;
}

/** A trace-level confidence that can weight a vote. */
export type ConfidenceKind = "mean" | "tail" | "bottom10" | "lowest";

/** A trace-level confidence that can drive top-eta filtering. */
export type FilterKind = "tail" | "bottom10" | "lowest";

/** Window geometry for group and tail confidences. */
export interface WindowOptions {
  /** Sliding-window size n (tokens). */
  window: number;
  /** Tail size t (tokens). */
  tail: number;
}

/** A trace that can take part in a vote: its answer (null = none extracted) and its statistics. */
export interface VotingTrace {
  answer: string | null;
  stats: TraceStats;
}

/** How an online trace ended. */
export type TraceEnd = "complete" | "stopped" | "cancelled";
