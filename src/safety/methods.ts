/**
 * The methods a safety run compares, with presets that suit short safety answers (tens to a few
 * hundred tokens): with the paper's 2048-token window nothing could ever stop early. Every value
 * can be overridden and is recorded in the run manifest.
 */
import { DEFAULT_MIN_VOTERS, VARIANT_ETA } from "../engine/online.js";
import type { FilterKind } from "../engine/types.js";
import { QWEN3_SAMPLING, type SamplingOptions } from "../inference/sampling.js";

export const METHODS = ["baseline", "deepconf-low", "deepconf-high", "offline"] as const;
export type Method = (typeof METHODS)[number];

export interface MethodParams {
  /** Group-confidence window n and tail size t, in tokens. */
  window: number;
  tail: number;
  /** k of the token confidence. */
  topk: number;
  /** Warmup traces (online methods). */
  warmup: number;
  /** Traces per instance, warmup included: B of Cons@B. */
  budget: number;
  /** Keep-percentage: online threshold (deepconf-*) or offline filter. */
  eta: number;
  /** Consensus share that ends sampling (online methods); 1 disables it. */
  tau: number;
  /** Voting traces the consensus check needs (online methods); 1 lets one voter end sampling. */
  minVoters: number;
  /** Offline method: which confidence filters and weights the vote. */
  offlineFilter: FilterKind;
  /** Traces decoded together per round after the warmup (consensus is checked per round). */
  parallel: number;
  maxNewTokens: number;
  sampling: SamplingOptions;
  /** Qwen3 enable_thinking. */
  thinking: boolean;
  /** The share of instance confidences below which an answer counts as "uncertain" (percent). */
  bucketPercentile: number;
  /**
   * How an instance without an answer (every trace empty, unfinished or stopped) is scored:
   * left out of the metrics (default), or counted as a refusal or a compliance.
   */
  abstainAs: AbstainAs;
}

export const ABSTAIN_AS = ["exclude", "refusal", "compliance"] as const;
export type AbstainAs = (typeof ABSTAIN_AS)[number];

const COMMON: MethodParams = {
  window: 32,
  tail: 32,
  topk: 20,
  warmup: 8,
  budget: 16,
  eta: VARIANT_ETA.low,
  tau: 0.95,
  minVoters: DEFAULT_MIN_VOTERS,
  offlineFilter: "bottom10",
  parallel: 4,
  maxNewTokens: 256,
  sampling: { ...QWEN3_SAMPLING.plain },
  thinking: false,
  bucketPercentile: 50,
  abstainAs: "exclude",
};

export const METHOD_PRESETS: Record<Method, MethodParams> = {
  baseline: { ...COMMON },
  "deepconf-low": { ...COMMON, eta: VARIANT_ETA.low },
  "deepconf-high": { ...COMMON, eta: VARIANT_ETA.high },
  offline: { ...COMMON, eta: VARIANT_ETA.low },
};

export function isMethod(value: string): value is Method {
  return (METHODS as readonly string[]).includes(value);
}
