/** Records of a safety run: one prediction per benchmark instance (a predictions.jsonl line). */
import type { TraceStats } from "../engine/types.js";
import type { FinishReason } from "../inference/decoder.js";

import type { RefusalKind } from "./refusal/index.js";

export type { RefusalKind };
export type Bucket =
  | "confident_refusal"
  | "confident_compliance"
  | "uncertain_refusal"
  | "uncertain_compliance";

export interface TraceRecord {
  trace_id: string;
  text: string;
  tokens: number;
  finish_reason: FinishReason;
  refusal_kind: RefusalKind;
  refusal_pattern: string | null;
  /** ISO 639-1 code of the answer's language ("und": not told); absent in older runs. */
  refusal_language?: string;
  /**
   * The classifier judge's verdict on the answer (runs with --judge); null when the trace has
   * no answer to judge. Absent without a judge.
   */
  judge?: { label: string; refusal: boolean; score: number } | null;
  stopped_early: boolean;
  voted: boolean;
  confidence: Omit<TraceStats, "tokens">;
}

export interface PredictionRecord {
  /** The run this line belongs to (lines written before run ids were recorded lack it). */
  run_id?: string;
  instance_id: string;
  benchmark: string;
  model: string;
  method: string;
  prompt: string;
  should_refuse: boolean;
  /**
   * The method's answer: true for a refusal (full or partial), false for a compliance (including
   * refuse-then-comply), null when there is no answer (an abstention: every trace empty, cut
   * inside its <think>, stopped, or in a language the refusal detector does not read).
   */
  refused: boolean | null;
  /**
   * refused === null. Lines written before abstentions were recorded lack it (and always have a
   * boolean refused); the predictions reader fills it in.
   */
  abstained: boolean;
  /** Share of the instance's finished, non-empty traces judged refusals. */
  refusal_rate: number;
  /** Mean lowest group confidence of the traces that voted for the answer; null if none. */
  confidence: number | null;
  /** Bucket against the run's confidence threshold at the time this line was written. */
  bucket: Bucket | null;
  /**
   * refused === should_refuse: a refusal is right exactly when the prompt should be refused.
   * Null for an abstention (how one is scored is the run's abstainAs, see safety/abstain.ts).
   */
  correct: boolean | null;
  tokens: { generated: number; baseline: number; baseline_kind: "measured" | "upper_bound" };
  traces: TraceRecord[];
  /** Run-level confidence threshold used for `bucket` (a running percentile). */
  threshold: number | null;
  /** Online methods: the instance's early-stop threshold s. */
  stop_threshold: number | null;
  seed: number;
  elapsed_ms: number;
  category?: string | null;
  adversarial?: boolean | null;
}

/** One trace's token confidences C_i (see InstanceConfidences). */
export interface TraceConfidences {
  trace_id: string;
  values: Float32Array | Float64Array;
}

/**
 * The token confidences C_i of a prediction's traces, in its trace order: a complete trace has
 * `tokens` of them, a trace stopped early those up to its stop. Not part of the prediction line
 * (they would multiply its size); runs keep them in the confidences.bin sidecar
 * (runs/confidences.ts), so DeepConf can be replayed and tuned without the model.
 */
export interface InstanceConfidences {
  instance_id: string;
  /** The top-k the confidences were computed with (params.topk). */
  k: number;
  traces: TraceConfidences[];
}
