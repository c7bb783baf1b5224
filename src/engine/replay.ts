/**
 * Replay: the paper's evaluation of online mode on a pool of recorded complete traces. An
 * instance's traces are taken in pool order: the first N_init are the warmup, the rest are fed
 * one by one through the same OnlineController a live generator uses. Deterministic.
 */
import { OnlineController, type OnlineResult } from "./online.js";
import { traceStats } from "./stats.js";
import type { TraceStats, WindowOptions } from "./types.js";
import { type OfflineAnswers, offlineAnswers, weightedVote } from "./voting.js";

/** One recorded trace: its answer (null = none extracted) and per-token confidences C_i. */
export interface PoolTrace {
  traceId: string;
  answer: string | null;
  confidences: Float64Array;
}

export interface PoolInstance {
  instanceId: string;
  traces: PoolTrace[];
}

export interface ReplayOptions extends WindowOptions {
  topk: number;
  eta: number;
  warmup: number;
  /** Budget B; null = every trace of the instance. Larger than the pool: the pool size. */
  budget: number | null;
  tau: number;
  /** Voting traces the consensus check needs (default 2). */
  minVoters: number;
}

export interface OnlineReplay extends OnlineResult {
  /** The budget actually replayed: min(B, traces in the pool). */
  budget: number;
  /** Tokens of the Cons@B baseline: the first B traces, complete (measured, not estimated). */
  tokensBaseline: number;
  /** The Cons@B answer: plain majority over the first B complete traces. */
  baselineAnswer: string | null;
}

export interface InstanceReplay {
  instanceId: string;
  /** Statistics of each complete recorded trace. */
  traces: Array<{ traceId: string; answer: string | null; stats: TraceStats }>;
  offline: OfflineAnswers;
  online: OnlineReplay;
}

export interface ReplayTotals {
  tokensUsed: number;
  tokensBaseline: number;
  /** 1 - used / baseline; null when the baseline has no tokens. */
  savings: number | null;
}

export function tokenSavings(used: number, baseline: number): number | null {
  return baseline > 0 ? 1 - used / baseline : null;
}

/** The online controller over one instance's traces in the order given. */
export function replayOnline(traces: readonly PoolTrace[], options: ReplayOptions): OnlineReplay {
  const budget = Math.min(options.budget ?? traces.length, traces.length);
  const controller = new OnlineController({ ...options, budget });
  let next = 0;
  while (controller.canStartTrace()) {
    const trace = traces[next++] as PoolTrace;
    const handle = controller.startTrace(trace.traceId);
    for (const confidence of trace.confidences) {
      if (handle.monitor.pushConfidence(confidence)) break;
    }
    controller.finishTrace(handle, trace.answer);
  }
  const baseline = traces.slice(0, budget);
  return {
    ...controller.result(),
    budget,
    tokensBaseline: baseline.reduce((sum, trace) => sum + trace.confidences.length, 0),
    baselineAnswer: weightedVote(
      baseline
        .filter((trace) => trace.confidences.length > 0)
        .map((trace) => ({ answer: trace.answer, weight: 1 })),
    ).answer,
  };
}

export function replayInstance(instance: PoolInstance, options: ReplayOptions): InstanceReplay {
  if (instance.traces.length === 0) {
    throw new RangeError(`instance ${instance.instanceId} has no traces`);
  }
  const traces = instance.traces.map((trace) => ({
    traceId: trace.traceId,
    answer: trace.answer,
    stats: traceStats(trace.confidences, options),
  }));
  return {
    instanceId: instance.instanceId,
    traces,
    offline: offlineAnswers(traces, options.eta),
    online: replayOnline(instance.traces, options),
  };
}

export function replayTotals(instances: readonly InstanceReplay[]): ReplayTotals {
  let tokensUsed = 0;
  let tokensBaseline = 0;
  for (const { online } of instances) {
    tokensUsed += online.tokensUsed;
    tokensBaseline += online.tokensBaseline;
  }
  return { tokensUsed, tokensBaseline, savings: tokenSavings(tokensUsed, tokensBaseline) };
}
