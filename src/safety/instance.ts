/**
 * SafetyDeepConf for one benchmark instance: sample traces from the model, judge each answer a
 * refusal or a compliance, and vote, following the method:
 * - deepconf-low / deepconf-high: the engine's OnlineController drives generation (warmup,
 *   threshold, early stop, confidence-weighted consensus over refusal/compliance, budget);
 * - baseline: `budget` complete traces, plain majority (Cons@B);
 * - offline: `budget` complete traces, top-eta filtered vote by one confidence.
 */

import type { BenchmarkItem } from "../datasets/types.js";
import { OnlineController, type TraceHandle } from "../engine/online.js";
import type { TraceStats } from "../engine/types.js";
import type { ThreadGenerationOptions, ThreadRequest, ThreadTrace } from "../inference/thread.js";
import type { ChatPrompt } from "../inference/tokenizer.js";
import { answerFields } from "./abstain.js";
import { answerOf } from "./answer.js";
import type { Method, MethodParams } from "./methods.js";
import { detectRefusal, type RefusalOptions } from "./refusal/index.js";
import type { InstanceConfidences, PredictionRecord, TraceRecord } from "./types.js";
import { decide } from "./vote.js";

/**
 * What an instance needs of a model: its chat template and batched sampling under a stop rule.
 * A DecoderThread provides it, so decoding never blocks the caller's event loop.
 */
export interface TraceSampler {
  readonly name: string;
  promptIds(chat: ChatPrompt): Promise<number[]>;
  /** One request's traces; each returns its text and token confidences under request.stop. */
  sample(request: ThreadRequest, options: ThreadGenerationOptions): Promise<ThreadTrace[]>;
}

export interface InstanceContext {
  model: TraceSampler;
  method: Method;
  params: MethodParams;
  seed: number;
  refusal?: RefusalOptions;
  /** Also generate the budget's complete traces without stopping, to measure Cons@B. */
  measureBaseline: boolean;
}

const REFUSAL = "refusal";

interface Judged {
  record: TraceRecord;
  answer: string | null;
  stats: TraceStats;
  /** C_i of the tokens the trace kept (for a stopped trace, up to its stop). */
  confidences: Float64Array;
}

/** A prediction line and, beside it, its traces' token confidences (the run's sidecar). */
export interface InstanceResult {
  prediction: PredictionRecord;
  confidences: InstanceConfidences;
}

function judge(context: InstanceContext, traceId: string, trace: ThreadTrace, stats: TraceStats) {
  const verdict = detectRefusal(trace.text, context.refusal);
  const { tokens, ...confidence } = stats;
  const judged: Judged = {
    stats,
    confidences: trace.confidences.subarray(0, tokens),
    answer: answerOf(tokens, verdict),
    record: {
      trace_id: traceId,
      text: trace.text,
      tokens,
      finish_reason: trace.finishReason,
      refusal_kind: verdict.kind,
      refusal_pattern: verdict.pattern,
      refusal_language: verdict.language,
      stopped_early: trace.finishReason === "stopped",
      voted: false,
      confidence,
    },
  };
  return judged;
}

/** `count` traces from trace index `first`, stopped against `threshold` (null: run to the end). */
function sample(
  context: InstanceContext,
  inputIds: number[],
  first: number,
  count: number,
  threshold: number | null,
): Promise<ThreadTrace[]> {
  const { window, tail, topk, sampling, maxNewTokens } = context.params;
  return context.model.sample(
    {
      inputIds,
      traces: count,
      seed: context.seed,
      firstTrace: first,
      stop: { window, tail, topk, threshold },
    },
    { sampling, maxNewTokens },
  );
}

/** `count` complete traces (no stopping), starting at trace index `first`. */
async function completeTraces(
  context: InstanceContext,
  inputIds: number[],
  first: number,
  count: number,
): Promise<Judged[]> {
  const traces = await sample(context, inputIds, first, count, null);
  return traces.map((trace) => judge(context, `t${first + trace.trace}`, trace, trace.stats));
}

async function online(context: InstanceContext, inputIds: number[]) {
  const p = context.params;
  const controller = new OnlineController({
    window: p.window,
    tail: p.tail,
    topk: p.topk,
    warmup: p.warmup,
    eta: p.eta,
    budget: p.budget,
    tau: p.tau,
    minVoters: p.minVoters,
  });
  const judged: Judged[] = [];
  while (controller.canStartTrace()) {
    // The warmup goes as one batch; later traces in rounds of `parallel` under the threshold.
    const handles: TraceHandle[] = [];
    const round = controller.threshold === null && judged.length === 0 ? p.warmup : p.parallel;
    while (controller.canStartTrace() && handles.length < round)
      handles.push(controller.startTrace(`t${controller.tracesStarted}`));
    const first = (handles[0] as TraceHandle).index;
    const threshold = (handles[0] as TraceHandle).monitor.threshold;
    const traces = await sample(context, inputIds, first, handles.length, threshold);
    for (const trace of traces) {
      const handle = handles[trace.trace] as TraceHandle;
      // The sampler applied the stop rule where the tokens were made; the controller's own
      // monitor replays the confidences, so its decision is the engine's, checked here.
      for (const confidence of trace.confidences) {
        if (handle.monitor.pushConfidence(confidence)) break;
      }
      if (handle.monitor.stopped !== (trace.finishReason === "stopped")) {
        throw new Error(
          `trace ${handle.traceId}: the sampler and the engine disagree on its early stop`,
        );
      }
      const verdict = judge(context, handle.traceId, trace, handle.monitor.stats());
      controller.finishTrace(handle, verdict.answer);
      judged.push(verdict);
    }
  }
  return { judged, stopThreshold: controller.threshold };
}

/**
 * Runs one instance: its prediction line (bucket filled in by the run) and the token confidences
 * of that line's traces (the measured Cons@B traces are not the prediction's: not included).
 */
export async function runInstance(
  item: BenchmarkItem,
  context: InstanceContext,
): Promise<InstanceResult> {
  const started = performance.now();
  const inputIds = await context.model.promptIds({
    prompt: item.prompt,
    thinking: context.params.thinking,
  });
  const isOnline = context.method === "deepconf-low" || context.method === "deepconf-high";
  const { judged, stopThreshold } = isOnline
    ? await online(context, inputIds)
    : {
        judged: await completeTraces(context, inputIds, 0, context.params.budget),
        stopThreshold: null,
      };
  const decision = decide(
    context.method,
    context.params,
    judged.map((j) => ({
      answer: j.answer,
      stats: j.stats,
      end: j.record.stopped_early ? "stopped" : "complete",
    })),
    stopThreshold,
  );
  judged.forEach((j, i) => {
    j.record.voted = decision.voted[i] as boolean;
  });
  const { answer, confidence } = decision;

  const generated = judged.reduce((sum, j) => sum + j.record.tokens, 0);
  let baseline = context.params.budget * context.params.maxNewTokens;
  let baselineKind: "measured" | "upper_bound" = "upper_bound";
  if (!isOnline) {
    baseline = generated;
    baselineKind = "measured";
  } else if (context.measureBaseline) {
    const full = await completeTraces(context, inputIds, 0, context.params.budget);
    baseline = full.reduce((sum, j) => sum + j.record.tokens, 0);
    baselineKind = "measured";
  }
  const answered = judged.filter((j) => j.answer !== null);
  const refusals = answered.filter((j) => j.answer === REFUSAL).length;
  // No answer (every trace empty, unfinished or stopped) is an abstention, not a compliance.
  const { refused, abstained, correct } = answerFields(answer, item.shouldRefuse);
  const prediction: PredictionRecord = {
    instance_id: item.id,
    benchmark: item.benchmark,
    model: context.model.name,
    method: context.method,
    prompt: item.prompt,
    should_refuse: item.shouldRefuse,
    refused,
    abstained,
    refusal_rate: answered.length === 0 ? 0 : refusals / answered.length,
    confidence,
    bucket: null,
    correct,
    tokens: { generated, baseline, baseline_kind: baselineKind },
    traces: judged.map((j) => j.record),
    threshold: null,
    stop_threshold: stopThreshold,
    seed: context.seed,
    elapsed_ms: performance.now() - started,
    category: item.category ?? null,
    adversarial: item.adversarial ?? null,
  };
  const confidences: InstanceConfidences = {
    instance_id: item.id,
    k: context.params.topk,
    traces: judged.map((j) => ({ trace_id: j.record.trace_id, values: j.confidences })),
  };
  return { prediction, confidences };
}
