/**
 * Results as they arrive, per run (the early-stop rate is in the sweep status): token savings (measured against Cons@B or
 * against the upper bound of every trace to max tokens, labelled as such), the four confidence
 * buckets and accuracy / precision / recall with 95% Wilson intervals. `deepconf analyze` does
 * the work; a run is analysed again only when its predictions changed.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { analyzeRuns, BUCKETS, type Metric } from "../analysis/analyze.js";
import { loadRun } from "../analysis/load.js";
import type { Interval } from "../analysis/stats.js";
import { PREDICTIONS } from "../runs/directory.js";

export const REPORT_FILE = "report.html";
export const FIGURES_DIR = "figures";

export interface RunResults {
  n: number;
  scored: number;
  tokens: {
    generated: number;
    baseline: number;
    /** "measured": against Cons@B traces; "upper_bound": every trace to max tokens. */
    baseline_kind: string | null;
    savings: number | null;
  };
  buckets: Array<{ bucket: string; n: number; accuracy: number | null; ci95: Interval }>;
  metrics: Record<"accuracy" | "precision" | "recall", Metric>;
  /** What `deepconf report` / `figures` last wrote into the run directory. */
  report: { generated_at: string | null; figures: string[] };
}

const METRIC_NAMES = ["accuracy", "precision", "recall"] as const;

/** The report and figures on disk (SVG names) for a run directory. */
export function reportFiles(dir: string): RunResults["report"] {
  const report = join(dir, REPORT_FILE);
  const figures = join(dir, FIGURES_DIR);
  return {
    generated_at: existsSync(report) ? statSync(report).mtime.toISOString() : null,
    figures: existsSync(figures)
      ? readdirSync(figures)
          .filter((f) => f.endsWith(".svg"))
          .sort()
      : [],
  };
}

export class ResultsCache {
  private readonly cache = new Map<string, { key: string; results: Omit<RunResults, "report"> }>();

  /** The run's results, or null before its first prediction. */
  async of(runId: string, dir: string): Promise<RunResults | null> {
    // The predictions file only grows: its size and time say whether anything changed.
    const file = join(dir, PREDICTIONS);
    if (!existsSync(file)) return null;
    const stat = statSync(file);
    const key = `${stat.size}/${stat.mtimeMs}`;
    let hit = this.cache.get(runId);
    if (hit?.key !== key) {
      const run = await loadRun(dir);
      if (run.predictions.length === 0) return null;
      // Few resamples: the bootstrap only feeds intervals the page does not show.
      const a = analyzeRuns([run], { resamples: 100, seed: 0 });
      hit = {
        key,
        results: {
          n: a.n,
          scored: a.scored,
          tokens: {
            generated: a.tokens.generated,
            baseline: a.tokens.baseline,
            baseline_kind: a.tokens.baseline_kind,
            savings: a.tokens.savings,
          },
          buckets: BUCKETS.map((bucket) => ({
            bucket,
            n: a.buckets[bucket].n,
            accuracy: a.buckets[bucket].accuracy,
            ci95: a.buckets[bucket].ci95,
          })),
          metrics: Object.fromEntries(METRIC_NAMES.map((m) => [m, a.metrics[m]])) as Record<
            (typeof METRIC_NAMES)[number],
            Metric
          >,
        },
      };
      this.cache.set(runId, hit);
    }
    return { ...hit.results, report: reportFiles(dir) };
  }
}
