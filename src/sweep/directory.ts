/**
 * The sweep directory on the orchestrator's disk: `<out>/<sweep-id>/sweep.json` (the sweep file
 * as given, every run's resolved spec and its shard list with instance ids) beside the runs'
 * directories `<out>/<run-id>/`. This is the truth: the queue can always be rebuilt from it and
 * from the predictions the run directories hold.
 */
import { existsSync, readdirSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "../errors.js";
import { MANIFEST, RunDirectory, type RunManifest, writeJsonAtomic } from "../runs/directory.js";
import { runManifest } from "../runs/manifest.js";
import type { JobSpec } from "../runs/spec.js";
import type { SweepPlan } from "./plan.js";

export const SWEEP_MANIFEST = "sweep.json";
export const DEFAULT_SWEEP_OUT = "sweeps";

export interface SweepShardRecord {
  job_id: string;
  index: number;
  count: number;
  instance_ids: string[];
}

export interface SweepRunRecord {
  run_id: string;
  spec: JobSpec;
  instances: number;
  shards: SweepShardRecord[];
}

export interface SweepManifest {
  sweep_id: string;
  name: string;
  created_at: string;
  file: { path: string; text: string };
  shard_size: number;
  priority: number | null;
  runs: SweepRunRecord[];
}

export function sweepDir(out: string, sweepId: string): string {
  return join(out, sweepId);
}

export function runDir(out: string, runId: string): string {
  return join(out, runId);
}

/**
 * Writes the sweep directory and creates each run's directory with its manifest. Launching the
 * same plan again keeps what is there (the ids are the same, so the runs resume).
 */
export async function writeSweep(
  plan: SweepPlan,
  out: string,
  file: { path: string; text: string },
): Promise<SweepManifest> {
  const path = join(sweepDir(out, plan.sweepId), SWEEP_MANIFEST);
  if (existsSync(path)) return loadSweep(out, plan.sweepId);
  for (const run of plan.runs) {
    const directory = await RunDirectory.open(
      runDir(out, run.runId),
      runManifest(run.spec, {
        samplingSource: run.samplingSource,
        sweepId: plan.sweepId,
        model: { dir: run.model.dir, parameters: run.model.parameters, sha: run.model.sha },
        benchmark: { spec: run.spec.benchmark.spec, ...run.benchmark, instances: run.instances },
      }),
    );
    directory.close();
  }
  const manifest: SweepManifest = {
    sweep_id: plan.sweepId,
    name: plan.name,
    created_at: new Date().toISOString(),
    file,
    shard_size: plan.shardSize,
    priority: plan.priority,
    runs: plan.runs.map((run) => ({
      run_id: run.runId,
      spec: run.spec,
      instances: run.instances,
      shards: run.shards.map((s) => ({
        job_id: s.jobId,
        index: s.index,
        count: s.count,
        instance_ids: s.instanceIds,
      })),
    })),
  };
  await mkdir(sweepDir(out, plan.sweepId), { recursive: true });
  await writeJsonAtomic(path, manifest);
  return manifest;
}

export async function loadSweep(out: string, sweepId: string): Promise<SweepManifest> {
  const path = join(sweepDir(out, sweepId), SWEEP_MANIFEST);
  if (!existsSync(path)) {
    const known = listSweeps(out);
    throw new InputError(
      `no sweep ${sweepId} in ${out}${known.length > 0 ? `: known sweeps are ${known.join(", ")}` : " (give --out DIR where it was launched)"}`,
    );
  }
  return JSON.parse(await readFile(path, "utf8")) as SweepManifest;
}

/** Sweep ids under `out`, newest first. */
export function listSweeps(out: string): string[] {
  if (!existsSync(out)) return [];
  return readdirSync(out, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(out, e.name, SWEEP_MANIFEST)))
    .map((e) => e.name)
    .sort();
}

/** A run directory's manifest as written at launch. */
export async function runManifestOf(out: string, runId: string): Promise<RunManifest> {
  return JSON.parse(await readFile(join(runDir(out, runId), MANIFEST), "utf8")) as RunManifest;
}

/** The spec of one shard of a run as the sweep records it. */
export function shardJobSpec(run: SweepRunRecord, shard: SweepShardRecord): JobSpec {
  return {
    ...run.spec,
    selection: { ...run.spec.selection, shard: { index: shard.index, count: shard.count } },
  };
}
