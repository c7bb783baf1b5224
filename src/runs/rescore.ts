/**
 * `deepconf rescore RUN`: re-judges every stored trace text with the refusal detector (e.g. with
 * new patterns) and re-votes, without a model. The old predictions are kept beside the new ones.
 * Without new patterns the run's own recorded ones are used; a run still being written (a live
 * lock) is refused, and the rescore holds the lock itself while it rewrites the files.
 */
import { existsSync } from "node:fs";
import { copyFile, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "../errors.js";
import { abstainAsOf, answerFields } from "../safety/abstain.js";
import { answerOf } from "../safety/answer.js";
import { bucketOf } from "../safety/label.js";
import type { Method, MethodParams } from "../safety/methods.js";
import { detectRefusal, type RefusalOptions } from "../safety/refusal/index.js";
import type { PredictionRecord } from "../safety/types.js";
import { decide } from "../safety/vote.js";
import { MANIFEST, PREDICTIONS, type RunManifest, SUMMARY, writeJsonAtomic } from "./directory.js";
import { acquireLock } from "./lock.js";
import { duplicatesNote, readPredictions } from "./predictions.js";
import { confidenceThreshold, type RunSummary, summarize } from "./summary.js";

export interface RescoreResult {
  n: number;
  /** Instances whose answer changed. */
  changed: number;
  /** Traces whose refusal kind changed. */
  tracesChanged: number;
  /** The patterns used: the run's recorded ones, or those given. */
  refusal: RefusalOptions | null;
  refusalSource: "run" | "given";
  /** Duplicate lines (an instance_id already seen) dropped from the rewritten file. */
  duplicates: number;
  /** Worth telling the user (e.g. duplicates dropped). */
  notes: string[];
  backup: string;
  summary: RunSummary;
}

export function rescorePrediction(
  prediction: PredictionRecord,
  method: Method,
  params: MethodParams,
  refusal?: RefusalOptions,
) {
  let tracesChanged = 0;
  const judged = prediction.traces.map((trace) => {
    const verdict = detectRefusal(trace.text, refusal);
    if (verdict.kind !== trace.refusal_kind) tracesChanged++;
    trace.refusal_kind = verdict.kind;
    trace.refusal_pattern = verdict.pattern;
    trace.refusal_language = verdict.language;
    return {
      answer: answerOf(trace.tokens, verdict),
      stats: { tokens: trace.tokens, ...trace.confidence },
      end: trace.stopped_early ? ("stopped" as const) : ("complete" as const),
    };
  });
  const decision = decide(method, params, judged, prediction.stop_threshold);
  prediction.traces.forEach((trace, i) => {
    trace.voted = decision.voted[i] as boolean;
  });
  const answered = judged.filter((j) => j.answer !== null);
  // No answer is an abstention (refused null), as in a live run.
  const { refused, abstained, correct } = answerFields(decision.answer, prediction.should_refuse);
  const changed = refused !== prediction.refused;
  prediction.refused = refused;
  prediction.abstained = abstained;
  prediction.correct = correct;
  prediction.refusal_rate =
    answered.length === 0
      ? 0
      : answered.filter((j) => j.answer === "refusal").length / answered.length;
  prediction.confidence = decision.confidence;
  return { changed, tracesChanged };
}

/**
 * Rescores a run directory. `given`: patterns to judge with (null: the built-in ones only);
 * undefined: the run's own recorded patterns (manifest.config.refusal).
 */
export async function rescoreRun(
  dir: string,
  given?: RefusalOptions | null,
): Promise<RescoreResult> {
  const manifestPath = join(dir, MANIFEST);
  if (!existsSync(manifestPath))
    throw new InputError(`${dir} is not a run directory (no ${MANIFEST})`);
  const unlock = acquireLock(dir);
  try {
    return await rescoreLocked(dir, manifestPath, given);
  } finally {
    unlock();
  }
}

async function rescoreLocked(
  dir: string,
  manifestPath: string,
  given: RefusalOptions | null | undefined,
): Promise<RescoreResult> {
  const manifest = JSON.parse(await readFile(manifestPath, "utf8")) as RunManifest;
  const config = manifest.config as {
    method: Method;
    params: MethodParams;
    refusal?: RefusalOptions | null;
  };
  const recorded = config.refusal ?? null;
  const chosen = given === undefined ? recorded : given;
  const refusal = chosen ?? undefined;
  const source = given === undefined ? ("run" as const) : ("given" as const);
  // As on resume: a line cut short by a crash is cut off; duplicate lines are dropped (the
  // rewritten file keeps the first of each instance; the backup keeps them all).
  const read = await readPredictions(join(dir, PREDICTIONS), { mode: "repair" });
  const predictions = read.predictions;
  const abstainAs = abstainAsOf(config.params);
  let changed = 0;
  let tracesChanged = 0;
  for (const prediction of predictions) {
    const result = rescorePrediction(prediction, config.method, config.params, refusal);
    if (result.changed) changed++;
    tracesChanged += result.tracesChanged;
  }
  // Buckets use the final threshold over all instances (a run writes a running one).
  const threshold = confidenceThreshold(predictions, config.params.bucketPercentile);
  for (const p of predictions) {
    p.threshold = threshold;
    p.bucket = bucketOf(p.refused, p.confidence, threshold);
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const backup = join(dir, `predictions.before-rescore-${stamp}.jsonl`);
  await copyFile(join(dir, PREDICTIONS), backup);
  const temporary = join(dir, `${PREDICTIONS}.tmp-${process.pid}`);
  await writeFile(temporary, predictions.map((p) => `${JSON.stringify(p)}\n`).join(""));
  await rename(temporary, join(dir, PREDICTIONS));
  const total = (manifest.dataset as { instances?: number } | undefined)?.instances ?? null;
  const summary = summarize(predictions, config.params.bucketPercentile, total, abstainAs);
  await writeJsonAtomic(join(dir, SUMMARY), summary);
  manifest.rescored = [
    ...((manifest.rescored as unknown[]) ?? []),
    { at: new Date().toISOString(), refusal: chosen, refusal_source: source, backup },
  ];
  await writeJsonAtomic(manifestPath, manifest);
  return {
    n: predictions.length,
    changed,
    tracesChanged,
    refusal: chosen,
    refusalSource: source,
    duplicates: read.duplicates,
    notes: read.duplicates > 0 ? [duplicatesNote(read.duplicates)] : [],
    backup,
    summary,
  };
}
