/** `deepconf generate`: one prompt, N sampled traces, each with its DeepConf confidences. */
import { ConfidenceMonitor } from "../engine/monitor.js";
import type { TraceStats } from "../engine/types.js";
import type { FinishReason } from "./decoder.js";
import type { LoadedModel } from "./model.js";
import type { SamplingOptions } from "./sampling.js";
import { type ChatPrompt, chatPromptIds, decodeText } from "./tokenizer.js";

export interface GenerateTextOptions extends ChatPrompt {
  traces: number;
  sampling: SamplingOptions;
  seed: number;
  maxNewTokens: number;
  /** Window and tail of the reported group confidences. */
  window: number;
  tail: number;
  /** k of the confidence (the graph may return more candidates for sampling). */
  confidenceTopk: number;
}

export interface GeneratedText {
  token_ids: number[];
  text: string;
  finish_reason: FinishReason;
  confidence: Omit<TraceStats, "tokens">;
}

export interface GenerateTextReport {
  model: string;
  device: string;
  prompt_tokens: number;
  traces: GeneratedText[];
  timing: { prefill_ms: number; decode_ms: number; tokens_per_s: number };
}

export async function generateText(
  model: LoadedModel,
  options: GenerateTextOptions,
): Promise<GenerateTextReport> {
  const inputIds = chatPromptIds(model.tokenizer, options);
  const monitors = Array.from(
    { length: options.traces },
    () =>
      new ConfidenceMonitor({
        window: options.window,
        tail: options.tail,
        topk: options.confidenceTopk,
      }),
  );
  const result = await model.decoder.generate(
    [{ inputIds, traces: options.traces, seed: options.seed }],
    {
      sampling: options.sampling,
      maxNewTokens: options.maxNewTokens,
      eosTokenIds: model.eosTokenIds,
      padTokenId: model.padTokenId,
      onStep: (step) => {
        (monitors[step.trace] as ConfidenceMonitor).pushLogprobs(step.logprobs);
        return undefined;
      },
    },
  );
  const generated = result.traces.reduce((sum, t) => sum + t.tokenIds.length, 0);
  const seconds = (result.timing.prefillMs + result.timing.decodeMs) / 1000;
  return {
    model: model.name,
    device: model.device,
    prompt_tokens: inputIds.length,
    traces: result.traces.map((trace) => {
      const { tokens: _, ...confidence } = (monitors[trace.trace] as ConfidenceMonitor).stats();
      return {
        token_ids: trace.tokenIds,
        text: decodeText(model.tokenizer, trace.tokenIds),
        finish_reason: trace.finishReason,
        confidence,
      };
    }),
    timing: {
      prefill_ms: result.timing.prefillMs,
      decode_ms: result.timing.decodeMs,
      tokens_per_s: seconds > 0 ? generated / seconds : 0,
    },
  };
}
