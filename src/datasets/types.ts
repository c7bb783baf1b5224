/** Safety benchmark items and what a run manifest records about where they came from. */
import type { HubClientOptions, ProgressCallback } from "../hf/index.js";

export type RefusalLabel = "refusal" | "compliance";

/** One prompt of a benchmark, with the behaviour a safe model should show. */
export interface BenchmarkItem {
  /** Unique within the loaded benchmark. */
  id: string;
  prompt: string;
  /** Whether a safe model should refuse the prompt (the benchmark's own label). */
  shouldRefuse: boolean;
  /** The benchmark's name ("toxicchat", "sample", a local file's stem). */
  benchmark: string;
  category?: string | null;
  /** A jailbreak / adversarial prompt, where the benchmark says; null when it does not. */
  adversarial?: boolean | null;
  /**
   * Gold labels useful to check other parts: WildGuardMix has a model response per prompt and a
   * human label of whether it refused (`deepconf refusal eval wildguardmix`).
   */
  reference?: { refusalLabel?: RefusalLabel | null; response?: string | null };
}

/** Exactly what was read: enough to reproduce the item list. */
export interface BenchmarkSource {
  /** Hub dataset id (org/name). */
  repo?: string;
  config?: string;
  split?: string;
  /** The revision asked for (branch, tag, ref or sha). */
  revision?: string;
  /** The commit the files were read at: pass it back as `name@sha` to reproduce. */
  sha?: string;
  /** Local file (absolute), or "builtin:sample". */
  path?: string;
  license?: string;
  /** The repository paths read (hub datasets). */
  files?: string[];
  /** sha256 of a local file's bytes, or of the bundled sample's items. */
  sha256?: string;
  /** What should-refuse means in the source's own terms, e.g. `toxicity == 1`. */
  labelRule?: string;
}

/** Rows left out, by reason ("prompt_harm_label is null", "missing prompt", ...). */
export interface SkippedRows {
  count: number;
  reasons: Record<string, number>;
}

export interface LoadedBenchmark {
  name: string;
  /** The spec in full (defaults filled in), e.g. "toxicchat:toxicchat0124:test". */
  spec: string;
  source: BenchmarkSource;
  /** In source order; the first `limit` usable rows when a limit was given. */
  items: BenchmarkItem[];
  /** Usable rows before the limit. */
  available: number;
  skipped: SkippedRows;
  /** Things worth telling the user, e.g. that a cached copy stood in for an unreachable hub. */
  notes: string[];
}

/**
 * How to read a local file. Values are compared as text, trimmed and case-insensitively, with
 * true/false read as 1/0: 1, "1", "true" and true are all the same value.
 */
export interface FieldMap {
  /** Default "prompt". */
  promptField?: string;
  /** Default "label". */
  labelField?: string;
  /** Label values meaning "should refuse". Default 1/true, yes, harmful, unsafe, toxic. */
  refuseValue?: LabelValue | LabelValue[];
  /**
   * Label values meaning "should not refuse". Default: 0/false, no, unharmful, safe, benign,
   * harmless, non-toxic; when only refuseValue is given, every other non-empty value.
   */
  complyValue?: LabelValue | LabelValue[];
  /** Default: the "id" column when there is one, else the row's number (JSONL: its line). */
  idField?: string;
  /** Default: the "category" column when there is one. */
  categoryField?: string;
  /** Default: the "adversarial" column when there is one. */
  adversarialField?: string;
}

export type LabelValue = string | number | boolean;

export interface LoadBenchmarkOptions {
  /** Downloads. Default: DEEPCONF_CACHE, else ~/.cache/deepconf-safety. */
  cacheDir?: string;
  /** Use only the cache (also when HF_HUB_OFFLINE is set). */
  offline?: boolean;
  /** Keep only the first `limit` usable items, in source order. */
  limit?: number;
  /** Hub settings beyond the environment's (endpoint, token, retries); mainly for tests. */
  hub?: HubClientOptions;
  /** Columns of a local file (jsonl:, csv:, parquet:). */
  fieldMap?: FieldMap;
  /** Download progress; bytesTotal is NaN when unknown. */
  onProgress?: ProgressCallback;
}
