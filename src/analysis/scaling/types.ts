/** One result: a technique's performance for one model at one scale on one benchmark. */
export interface ResultRow {
  technique: string;
  /** Where the technique comes from (a paper, a URL); null when not given. */
  source: string | null;
  model: string;
  /** The scale as written ("7B", "350M"); with model and benchmark it keys the baseline match. */
  scale: string;
  /** Billions of parameters. */
  scale_b: number;
  benchmark: string;
  /** As reported (before the direction is normalised). */
  performance: number;
  /** Where the row came from: "file.csv:12" or a run directory. */
  origin: string;
}

/** An input row or run left out of the analysis, and why. */
export interface SkippedInput {
  origin: string;
  reason: string;
}

export interface LoadedResults {
  rows: ResultRow[];
  skipped: SkippedInput[];
  /** Things worth saying that are not skips (e.g. runs pooled together). */
  notes: string[];
}
