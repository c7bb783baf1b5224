/**
 * Chaos for sweeps on the queue: a sweep runs on worker processes while a random worker is
 * SIGKILLed again and again (and started again each time), with the collector in this process
 * (followSweep). Then: every planned instance is on disk exactly once (raw lines, not the
 * deduplicating reader) and every prediction equals (without elapsed_ms) the in-process launch
 * of the same sweep. Used by scripts/chaos-sweep.ts (npm run chaos:sweep) and by
 * test/sweep/chaos.test.ts (a smaller run).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { QueueConnection } from "../src/queue/producer.js";
import { parseProgress } from "../src/queue/types.js";
import { PREDICTIONS } from "../src/runs/directory.js";
import type { PredictionRecord } from "../src/safety/types.js";
import { runDir, type SweepManifest } from "../src/sweep/directory.js";
import { prepareSweep, runSweepHere } from "../src/sweep/launch.js";
import { enqueuePending, followSweep } from "../src/sweep/queue.js";
import { sweepStatus } from "../src/sweep/status.js";

const REPO = fileURLToPath(new URL("..", import.meta.url));

export interface ChaosOptions {
  /** The sweep file. */
  sweepFile: string;
  redis: string;
  /** Key prefix of this run alone. */
  prefix: string;
  /** Where the queued sweep goes, and where its in-process twin goes. */
  out: string;
  referenceOut: string;
  cacheDir: string;
  /** Worker processes (default 3). */
  workers?: number;
  /** SIGKILLs (default 20); fewer when the sweep ends first (the report says how many). */
  kills?: number;
  /** Pause before each kill, drawn uniformly from [min, max] ms (default 1000-2500). */
  killEveryMs?: [number, number];
  /** Worker flags: the job lock and the stalled check (default 2000 and 1000 ms). */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Seed of the victim and pause choices. */
  seed?: number;
  log?: (line: string) => void;
}

export interface Recovery {
  job: string;
  /** Kill to the job taken by another worker; null when it never was (see `outcome`). */
  ms: number | null;
  outcome: "taken over" | "finished before the kill" | "not seen again";
}

export interface ChaosReport {
  sweep_id: string;
  instances: number;
  runs: number;
  shards: number;
  workers: number;
  kills: number;
  /** Kills that hit a worker while it held a job. */
  kills_mid_job: number;
  /** Jobs of killed workers taken over by another worker. */
  recoveries: number;
  /** Jobs a kill was aimed at that had finished just before it, or were never seen again. */
  finished_before_kill: number;
  not_taken_over: number;
  recovery_ms: { max: number | null; median: number | null; mean: number | null };
  lock_duration_ms: number;
  stalled_interval_ms: number;
  /** Enqueue to the last result on disk. */
  wall_s: number;
  /** The same sweep in one process, one shard after the other (the reference). */
  reference_s: number;
  stream: { delivered: number; written: number; duplicates: number };
  disk: { lines: number; missing: number; duplicate_lines: number };
  exactly_once: boolean;
  identical: boolean;
  /** Predictions that differ from the reference (without elapsed_ms). */
  mismatches: number;
  state: string;
}

interface WorkerProcess {
  child: ChildProcess;
  id: string | null;
  exited: Promise<void>;
  log: string;
}

/** mulberry32: small, seeded, good enough to pick victims. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every line of a predictions file, duplicates included. */
function rawLines(path: string): PredictionRecord[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as PredictionRecord);
}

const comparable = ({ elapsed_ms: _, ...rest }: PredictionRecord) => JSON.stringify(rest);

/** Lines on disk against the plan and the reference run. */
export function checkSweep(sweep: SweepManifest, out: string, referenceOut: string) {
  let lines = 0;
  let missing = 0;
  let duplicates = 0;
  let mismatches = 0;
  for (const run of sweep.runs) {
    const got = rawLines(join(runDir(out, run.run_id), PREDICTIONS));
    const want = new Map(
      rawLines(join(runDir(referenceOut, run.run_id), PREDICTIONS)).map((p) => [
        p.instance_id,
        comparable(p),
      ]),
    );
    lines += got.length;
    const seen = new Map<string, number>();
    for (const p of got) {
      seen.set(p.instance_id, (seen.get(p.instance_id) ?? 0) + 1);
      if (want.get(p.instance_id) !== comparable(p)) mismatches++;
    }
    for (const shard of run.shards)
      for (const id of shard.instance_ids) if (!seen.has(id)) missing++;
    for (const count of seen.values()) duplicates += count - 1;
    // The reference itself must be whole, or "identical" would mean little.
    for (const shard of run.shards)
      for (const id of shard.instance_ids) if (!want.has(id)) mismatches++;
  }
  return { lines, missing, duplicates, mismatches };
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => undefined);
  const workerCount = options.workers ?? 3;
  const killTarget = options.kills ?? 20;
  const [pauseMin, pauseMax] = options.killEveryMs ?? [1000, 2500];
  const lockMs = options.lockDurationMs ?? 2000;
  const stalledMs = options.stalledIntervalMs ?? 1000;
  const draw = random(options.seed ?? 1);
  const target = { redis: options.redis, prefix: options.prefix };

  // The reference first: it also derives the model's graph into the cache for the workers.
  const referenceSweep = await prepareSweep(options.sweepFile, {
    out: options.referenceOut,
    cacheDir: options.cacheDir,
  });
  const referenceStart = performance.now();
  await runSweepHere(referenceSweep, { out: options.referenceOut, cacheDir: options.cacheDir });
  const referenceS = (performance.now() - referenceStart) / 1000;
  log(`reference: ${referenceSweep.sweep_id} in this process in ${referenceS.toFixed(1)} s`);

  const sweep = await prepareSweep(options.sweepFile, {
    out: options.out,
    cacheDir: options.cacheDir,
  });
  const instances = sweep.runs.reduce((s, r) => s + r.instances, 0);
  const shards = sweep.runs.reduce((s, r) => s + r.shards.length, 0);
  const connection = await QueueConnection.open(options.redis, { prefix: options.prefix });
  const workers = new Set<WorkerProcess>();

  const startWorker = (): WorkerProcess => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        join(REPO, "workers", "inference-worker.ts"),
        "--redis",
        options.redis,
        "--prefix",
        options.prefix,
        "--cache-dir",
        options.cacheDir,
        "--lock-duration",
        String(lockMs),
        "--stalled-interval",
        String(stalledMs),
        // Kills are not the job's fault: no number of stalls may fail it.
        "--max-stalled",
        "1000000",
        "--heartbeat",
        "500",
      ],
      { cwd: REPO, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, FORCE_COLOR: "0" } },
    );
    const worker: WorkerProcess = {
      child,
      id: null,
      log: "",
      exited: new Promise((resolve) => child.once("close", () => resolve())),
    };
    const onData = (chunk: Buffer) => {
      worker.log = (worker.log + chunk.toString()).slice(-20_000);
      worker.id ??= /deepconf worker: (\S+) ready:/.exec(worker.log)?.[1] ?? null;
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    workers.add(worker);
    void worker.exited.then(() => workers.delete(worker));
    return worker;
  };

  const recoveries: Array<Promise<Recovery>> = [];
  /** Watches a killed worker's job until another worker holds it (or it is seen finished). */
  const watch = async (jobId: string, victim: string, killedAt: number): Promise<Recovery> => {
    const end = killedAt + 120_000;
    while (performance.now() < end) {
      const job = await connection.queue.getJob(jobId);
      if (job === undefined) return { job: jobId, ms: null, outcome: "not seen again" };
      if (job.processedBy !== undefined && job.processedBy !== victim) {
        return { job: jobId, ms: performance.now() - killedAt, outcome: "taken over" };
      }
      if (job.finishedOn !== undefined)
        return { job: jobId, ms: null, outcome: "finished before the kill" };
      await sleep(20);
    }
    return { job: jobId, ms: null, outcome: "not seen again" };
  };

  for (let i = 0; i < workerCount; i++) startWorker();
  const start = performance.now();
  const enqueued = await enqueuePending(connection, sweep, options.out);
  log(
    `sweep ${sweep.sweep_id}: ${instances} instances, ${shards} shards (${enqueued.added.length} enqueued) on ${workerCount} workers`,
  );
  let finished = false;
  let written = 0;
  const stopFollowing = new AbortController();
  const following = followSweep(connection, sweep, {
    out: options.out,
    target,
    pollMs: 250,
    signal: stopFollowing.signal,
    onPrediction: () => {
      written++;
    },
    onProblem: (message) => log(`collector: ${message}`),
  }).finally(() => {
    finished = true;
  });

  let kills = 0;
  let killsMidJob = 0;
  // Kills are spread over the sweep: each waits for its share of new results on disk, so the
  // workers get to run instances between kills (not only to start and load the model).
  const step = Math.max(1, Math.floor(instances / (killTarget + 2)));
  let writtenAtKill = 0;
  try {
    while (kills < killTarget && !finished) {
      await sleep(pauseMin + draw() * (pauseMax - pauseMin));
      while (!finished && written < writtenAtKill + step) await sleep(50);
      if (finished) break;
      const ready = [...workers].filter((w) => w.id !== null && w.child.exitCode === null);
      if (ready.length === 0) continue;
      const active = await connection.queue.getJobs(["active"]);
      const busy = ready.filter((w) => active.some((j) => j.processedBy === w.id));
      // A worker running a job that has delivered results (its model is loaded, inference runs).
      const delivering = busy.filter((w) =>
        active.some((j) => j.processedBy === w.id && (parseProgress(j.progress)?.done ?? 0) > 0),
      );
      const pool = delivering.length > 0 ? delivering : busy.length > 0 ? busy : ready;
      const victim = pool[Math.floor(draw() * pool.length)] as WorkerProcess;
      const jobs = active.filter((j) => j.processedBy === victim.id).map((j) => j.id as string);
      victim.child.kill("SIGKILL");
      const killedAt = performance.now();
      kills++;
      writtenAtKill = written;
      if (jobs.length > 0) killsMidJob++;
      for (const job of jobs) recoveries.push(watch(job, victim.id as string, killedAt));
      log(
        `kill ${kills}: worker ${victim.id}${jobs.length > 0 ? ` running ${jobs.join(", ")}` : " (no job)"}; ${written} of ${instances} on disk`,
      );
      await victim.exited;
      startWorker();
    }
    const stats = await following;
    const wallS = (performance.now() - start) / 1000;
    const settled = await Promise.all(recoveries);
    const times = settled.flatMap((r) => (r.ms === null ? [] : [r.ms])).sort((a, b) => a - b);
    const status = await sweepStatus(sweep, options.out);
    const check = checkSweep(sweep, options.out, options.referenceOut);
    log(`done in ${wallS.toFixed(1)} s; ${kills} kills, ${times.length} jobs taken over`);
    for (const r of settled.filter((x) => x.outcome !== "taken over"))
      log(`job ${r.job}: ${r.outcome}`);
    return {
      sweep_id: sweep.sweep_id,
      instances,
      runs: sweep.runs.length,
      shards,
      workers: workerCount,
      kills,
      kills_mid_job: killsMidJob,
      recoveries: times.length,
      finished_before_kill: settled.filter((r) => r.outcome === "finished before the kill").length,
      not_taken_over: settled.filter((r) => r.outcome === "not seen again").length,
      recovery_ms: {
        max: times.length > 0 ? Math.round(times[times.length - 1] as number) : null,
        median: times.length > 0 ? Math.round(times[Math.floor(times.length / 2)] as number) : null,
        mean: times.length > 0 ? Math.round(times.reduce((a, b) => a + b, 0) / times.length) : null,
      },
      lock_duration_ms: lockMs,
      stalled_interval_ms: stalledMs,
      wall_s: Math.round(wallS * 10) / 10,
      reference_s: Math.round(referenceS * 10) / 10,
      stream: {
        delivered: stats.written + stats.duplicates,
        written: stats.written,
        duplicates: stats.duplicates,
      },
      disk: { lines: check.lines, missing: check.missing, duplicate_lines: check.duplicates },
      exactly_once: check.lines === instances && check.missing === 0 && check.duplicates === 0,
      identical: check.mismatches === 0,
      mismatches: check.mismatches,
      state: status.state,
    };
  } catch (error) {
    for (const w of workers) log(`worker ${w.id} log:\n${w.log}`);
    throw error;
  } finally {
    stopFollowing.abort();
    await following.catch(() => undefined);
    for (const w of workers) w.child.kill("SIGTERM");
    await Promise.race([
      Promise.all([...workers].map((w) => w.exited)),
      sleep(15_000).then(() => {
        for (const w of workers) w.child.kill("SIGKILL");
      }),
    ]);
    await connection.close();
  }
}
