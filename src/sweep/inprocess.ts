/**
 * The embedded default: a sweep run in this process, shard after shard, through the same runJob
 * a queue worker calls, into the same run directories. Shards whose instances are all on disk
 * are skipped, so running it again resumes.
 */
import { RunDirectory } from "../runs/directory.js";
import { runJob } from "../runs/job.js";
import type { JobResources } from "../runs/resources.js";
import { summarize } from "../runs/summary.js";
import type { PredictionRecord } from "../safety/types.js";
import { runDir, runManifestOf, type SweepManifest, shardJobSpec } from "./directory.js";

export interface InProcessOptions {
  resources: JobResources;
  signal?: AbortSignal;
  /** After each instance written: the run it belongs to and its prediction. */
  onPrediction?: (runId: string, prediction: PredictionRecord) => void;
}

export interface InProcessOutcome {
  shardsRun: number;
  shardsSkipped: number;
  interrupted: boolean;
}

export async function runSweepInProcess(
  sweep: SweepManifest,
  out: string,
  options: InProcessOptions,
): Promise<InProcessOutcome> {
  const outcome: InProcessOutcome = { shardsRun: 0, shardsSkipped: 0, interrupted: false };
  for (const run of sweep.runs) {
    if (options.signal?.aborted) break;
    const directory = await RunDirectory.open(
      runDir(out, run.run_id),
      await runManifestOf(out, run.run_id),
    );
    try {
      const finished = new Set(directory.finished.map((p) => p.instance_id));
      for (const shard of run.shards) {
        if (shard.instance_ids.every((id) => finished.has(id))) {
          outcome.shardsSkipped++;
          continue;
        }
        const result = await runJob(
          shardJobSpec(run, shard),
          {
            finished,
            append: async (prediction, confidences) => {
              await directory.append(prediction, confidences);
              finished.add(prediction.instance_id);
              options.onPrediction?.(run.run_id, prediction);
            },
          },
          { resources: options.resources, signal: options.signal },
        );
        if (result.interrupted) break;
        outcome.shardsRun++;
      }
      await directory.writeSummary(
        summarize(directory.finished, run.spec.params.bucketPercentile, run.instances),
      );
    } finally {
      directory.close();
    }
  }
  outcome.interrupted = options.signal?.aborted === true;
  return outcome;
}
