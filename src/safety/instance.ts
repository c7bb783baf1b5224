/**
 * SafetyDeepConf for one benchmark instance: sample traces from the model, judge each answer a
 * refusal or a compliance, and vote, following the method:
 * - deepconf-low / deepconf-high: the engine's OnlineController drives generation (warmup,
 *   threshold, early stop, confidence-weighted consensus over refusal/compliance, budget);
 * - baseline: `budget` complete traces, plain majority (Cons@B);
 * - offline: `budget` complete traces, top-eta filtered vote by one confidence.
 */

import type { BenchmarkItem } from "../datasets/types.js";
import { ConfidenceMonitor } from "../engine/monitor.js";
import { OnlineController, type TraceHandle } from "../engine/online.js";
import type { TraceStats } from "../engine/types.js";
import type { GeneratedTrace } from "../inference/decoder.js";
import type { LoadedModel } from "../inference/model.js";
import { chatPromptIds, decodeText } from "../inference/tokenizer.js";
import { answerFields } from "./abstain.js";
import { answerOf } from "./answer.js";
import type { Method, MethodParams } from "./methods.js";
import { detectRefusal, type RefusalOptions } from "./refusal/index.js";
import type { PredictionRecord, TraceRecord } from "./types.js";
import { decide } from "./vote.js";

export interface InstanceContext {
  model: LoadedModel;
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
}

function judge(
  context: InstanceContext,
  traceId: string,
  trace: GeneratedTrace,
  stats: TraceStats,
): Judged {
  const text = decodeText(context.model.tokenizer, trace.tokenIds);
  const verdict = detectRefusal(text, context.refusal);
  const { tokens, ...confidence } = stats;
  return {
    stats,
    answer: answerOf(tokens, verdict),
    record: {
      trace_id: traceId,
      text,
      tokens,
      finish_reason: trace.finishReason,
      refusal_kind: verdict.kind,
      refusal_pattern: verdict.pattern,
      stopped_early: trace.finishReason === "stopped",
      voted: false,
      confidence,
    },
  };
}

function generationOptions(context: InstanceContext) {
  return {
    sampling: context.params.sampling,
    maxNewTokens: context.params.maxNewTokens,
    eosTokenIds: context.model.eosTokenIds,
    padTokenId: context.model.padTokenId,
  };
}

/** `count` complete traces (no stopping), starting at trace index `first`. */
async function completeTraces(
  context: InstanceContext,
  inputIds: number[],
  first: number,
  count: number,
) {
  const { window, tail, topk } = context.params;
  const monitors = Array.from(
    { length: count },
    () => new ConfidenceMonitor({ window, tail, topk }),
  );
  const result = await context.model.decoder.generate(
    [{ inputIds, traces: count, seed: context.seed, firstTrace: first }],
    {
      ...generationOptions(context),
      onStep: (step) => {
        monitors[step.trace]?.pushLogprobs(step.logprobs);
        return undefined;
      },
    },
  );
  return result.traces.map((trace) =>
    judge(
      context,
      `t${first + trace.trace}`,
      trace,
      (monitors[trace.trace] as ConfidenceMonitor).stats(),
    ),
  );
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
    const result = await context.model.decoder.generate(
      [{ inputIds, traces: handles.length, seed: context.seed, firstTrace: first }],
      {
        ...generationOptions(context),
        onStep: (step) =>
          (handles[step.trace] as TraceHandle).monitor.pushLogprobs(step.logprobs) || undefined,
      },
    );
    for (const trace of result.traces) {
      const handle = handles[trace.trace] as TraceHandle;
      const verdict = judge(context, handle.traceId, trace, handle.monitor.stats());
      controller.finishTrace(handle, verdict.answer);
      judged.push(verdict);
    }
  }
  return { judged, stopThreshold: controller.threshold };
}

/** Runs one instance and returns its prediction line (bucket filled in by the run). */
export async function runInstance(
  item: BenchmarkItem,
  context: InstanceContext,
): Promise<PredictionRecord> {
  const started = performance.now();
  const inputIds = chatPromptIds(context.model.tokenizer, {
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
  return {
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
}
