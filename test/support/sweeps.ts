/**
 * Sweep files for the tiny model and checks on what sweeps leave on disk: every planned instance
 * exactly once, counted on raw lines (the predictions reader would hide a duplicate), and equal
 * (without elapsed_ms) to the in-process launch of the same file.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { PREDICTIONS } from "../../src/runs/directory.js";
import type { PredictionRecord } from "../../src/safety/types.js";
import { listSweeps, loadSweep, runDir, type SweepManifest } from "../../src/sweep/directory.js";
import { deepconf } from "./cli.js";
import { predictionLines, SHARED_REDIS, until } from "./queue.js";
import { testTempDir, tinyModelDir } from "./tiny-model.js";

export interface SweepText {
  name: string;
  /** Default: the tiny model. */
  models?: string[];
  limit: number;
  methods: string[];
  shardSize: number;
  maxNewTokens?: number;
  seeds?: number[];
}

/** A sweep file over the sample benchmark with small params; returns its path. */
export function writeSweepFile(s: SweepText): string {
  const text = [
    `name: ${s.name}`,
    "models:",
    ...(s.models ?? [tinyModelDir()]).map((m) => `  - ${m}`),
    "benchmarks:",
    "  - spec: sample",
    `    limit: ${s.limit}`,
    `methods: [${s.methods.join(", ")}]`,
    `params: {maxNewTokens: ${s.maxNewTokens ?? 6}, budget: 4, warmup: 2, window: 3, tail: 3, parallel: 2}`,
    ...(s.seeds ? [`seeds: [${s.seeds.join(", ")}]`] : []),
    `shardSize: ${s.shardSize}`,
  ].join("\n");
  const path = join(testTempDir("sweepfile-"), "sweep.yaml");
  writeFileSync(path, `${text}\n`);
  return path;
}

export const comparable = ({ elapsed_ms: _, ...rest }: PredictionRecord) => rest;
export const byId = (a: { instance_id: string }, b: { instance_id: string }) =>
  a.instance_id < b.instance_id ? -1 : 1;

/** The in-process launch of the same file into a folder of its own: what a queue must equal. */
export async function referenceLaunch(path: string, cacheDir: string): Promise<string> {
  const out = testTempDir("reference-");
  const run = await deepconf("sweep", "launch", path, "--out", out, "--cache-dir", cacheDir);
  expect(run.code, run.stderr).toBe(0);
  return out;
}

/** Every run holds each planned instance exactly once (raw lines), equal to the reference. */
export async function expectExactlyOnce(
  sweep: SweepManifest,
  out: string,
  referenceOut: string,
): Promise<void> {
  for (const run of sweep.runs) {
    const lines = await predictionLines(join(runDir(out, run.run_id), PREDICTIONS));
    const planned = run.shards.flatMap((s) => s.instance_ids).sort();
    expect(lines.map((p) => p.instance_id).sort()).toEqual(planned);
    const expected = await predictionLines(join(runDir(referenceOut, run.run_id), PREDICTIONS));
    expect(expected).toHaveLength(planned.length);
    expect(lines.map(comparable).sort(byId)).toEqual(expected.map(comparable).sort(byId));
  }
}

/** The sweep launched under `out`, once its directory exists. */
export async function sweepUnder(out: string): Promise<SweepManifest> {
  const id = await until(() => listSweeps(out)[0], { what: "the sweep directory" });
  return loadSweep(out, id);
}

/** Raw lines in all of the sweep's run directories. */
export async function linesOnDisk(sweep: SweepManifest, out: string): Promise<number> {
  let total = 0;
  for (const run of sweep.runs)
    total += (await predictionLines(join(runDir(out, run.run_id), PREDICTIONS))).length;
  return total;
}

/** `sweep launch FILE --follow` on a test's queue (its own key prefix), as a researcher runs it. */
export function launchFollow(
  path: string,
  {
    out,
    cacheDir,
    prefix,
    json = false,
  }: { out: string; cacheDir: string; prefix: string; json?: boolean },
) {
  const flags = [
    "--out",
    out,
    "--cache-dir",
    cacheDir,
    "--redis",
    SHARED_REDIS,
    "--prefix",
    prefix,
  ];
  return deepconf("sweep", "launch", path, ...flags, "--follow", ...(json ? ["--json"] : []));
}
