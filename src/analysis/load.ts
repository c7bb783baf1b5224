/**
 * Reads run directories for analysis, read-only: unlike RunDirectory (which resumes a run and
 * may cut a half-written last line off the file), a last line without its newline is skipped
 * here and the file is left alone, so analysing a run in progress never changes it.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "../errors.js";
import { MANIFEST, PREDICTIONS, type RunManifest } from "../runs/directory.js";
import { readPredictions } from "../runs/predictions.js";
import { confidenceThreshold } from "../runs/summary.js";
import { type AbstainAs, abstainAsOf } from "../safety/abstain.js";
import type { PredictionRecord } from "../safety/types.js";

export interface LoadedRun {
  dir: string;
  manifest: RunManifest;
  predictions: PredictionRecord[];
  /** manifest.dataset.instances: how many instances the run was to cover; null if unknown. */
  total: number | null;
  /** manifest.config.params.bucketPercentile (default 50). */
  bucketPercentile: number;
  /** That percentile of the run's instance confidences (numpy linear); null without any. */
  threshold: number | null;
  /**
   * How this run's abstentions (instances without an answer) are scored: the --abstain-as
   * given, else manifest.config.params.abstainAs, else "exclude".
   */
  abstainAs: AbstainAs;
  /** Duplicate predictions lines dropped (an instance_id already seen; the first is kept). */
  duplicates: number;
}

export interface LoadRunOptions {
  /** Overrides the run's recorded abstainAs. */
  abstainAs?: AbstainAs;
}

export async function loadRun(dir: string, options: LoadRunOptions = {}): Promise<LoadedRun> {
  const manifestPath = join(dir, MANIFEST);
  if (!existsSync(manifestPath)) {
    throw new InputError(
      `${dir} is not a run directory (no ${MANIFEST}); give directories written by deepconf run, e.g. runs/<run-id>`,
    );
  }
  let manifest: RunManifest;
  try {
    manifest = JSON.parse(await readFile(manifestPath, "utf8")) as RunManifest;
  } catch (error) {
    throw new InputError(`${manifestPath}: not valid JSON (${(error as Error).message})`);
  }
  if (manifest === null || typeof manifest !== "object") {
    throw new InputError(`${manifestPath}: expected a JSON object`);
  }
  const { predictions, duplicates } = await readPredictions(join(dir, PREDICTIONS), {
    mode: "read-only",
  });
  const params = (manifest.config?.params ?? {}) as { bucketPercentile?: unknown };
  const bucketPercentile =
    typeof params.bucketPercentile === "number" ? params.bucketPercentile : 50;
  const instances = (manifest.dataset as { instances?: unknown } | undefined)?.instances;
  return {
    dir,
    manifest,
    predictions,
    total: typeof instances === "number" ? instances : null,
    bucketPercentile,
    threshold: confidenceThreshold(predictions, bucketPercentile),
    abstainAs: options.abstainAs ?? abstainAsOf(params),
    duplicates,
  };
}
