/**
 * `deepconf sweep plan` and `sweep launch` without the command line: read and plan a sweep file,
 * write the sweep directory (the truth), then run it in this process (the embedded default) or
 * hand its shards to a queue.
 */
import { dirname, resolve } from "node:path";
import { cacheDirFromEnv } from "../hf/settings.js";
import { JobResources } from "../runs/resources.js";
import type { PredictionRecord } from "../safety/types.js";
import { runDir, type SweepManifest, writeSweep } from "./directory.js";
import { runSweepInProcess } from "./inprocess.js";
import { type PlanOptions, planSweep, type SweepPlan } from "./plan.js";
import { readSweepFile } from "./schema.js";

export interface PlanFileOptions {
  cacheDir?: string;
  offline?: boolean;
  onNote?: PlanOptions["onNote"];
  onDownload?: PlanOptions["onDownload"];
}

export async function planSweepFile(
  path: string,
  options: PlanFileOptions = {},
): Promise<{ plan: SweepPlan; text: string }> {
  const { file, text } = readSweepFile(path);
  const plan = await planSweep(file, {
    cacheDir: options.cacheDir ?? cacheDirFromEnv(),
    baseDir: dirname(resolve(path)),
    offline: options.offline,
    onNote: options.onNote,
    onDownload: options.onDownload,
  });
  return { plan, text };
}

export interface LaunchOptions extends PlanFileOptions {
  /** Parent of the sweep directory and its runs' directories. */
  out: string;
  threads?: number;
  /** Traces decoding at once across instances; unset: the per-instance loop. */
  maxRows?: number;
  signal?: AbortSignal;
  onPrediction?: (runId: string, prediction: PredictionRecord) => void;
}

/** The `--json` shape of a launched sweep. */
export interface LaunchReport {
  sweep_id: string;
  sweep_dir: string;
  runs: Array<{ run_id: string; run_dir: string; instances: number }>;
  shards: number;
}

export function launchReport(sweep: SweepManifest, out: string): LaunchReport {
  return {
    sweep_id: sweep.sweep_id,
    sweep_dir: resolve(out, sweep.sweep_id),
    runs: sweep.runs.map((r) => ({
      run_id: r.run_id,
      run_dir: resolve(runDir(out, r.run_id)),
      instances: r.instances,
    })),
    shards: sweep.runs.reduce((s, r) => s + r.shards.length, 0),
  };
}

/** Plans the file and writes the sweep directory (kept as is when it exists: ids are the same). */
export async function prepareSweep(path: string, options: LaunchOptions): Promise<SweepManifest> {
  const { plan, text } = await planSweepFile(path, options);
  return writeSweep(plan, options.out, { path: resolve(path), text });
}

/** The embedded default: every shard in this process, through the same runJob as workers. */
export async function runSweepHere(sweep: SweepManifest, options: LaunchOptions) {
  const resources = new JobResources({
    cacheDir: options.cacheDir ?? cacheDirFromEnv(),
    offline: options.offline,
    threads: options.threads,
    maxRows: options.maxRows,
    onNote: options.onNote,
    onDownload: options.onDownload,
  });
  try {
    return await runSweepInProcess(sweep, options.out, {
      resources,
      signal: options.signal,
      onPrediction: options.onPrediction,
    });
  } finally {
    await resources.close();
  }
}
