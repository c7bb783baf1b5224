/**
 * A sweep on the job queue: enqueue the shards the disk does not have yet, follow them while the
 * collector writes results home, read shard states and workers for status, cancel, retry, and
 * rebuild the queue from the sweep directory after Redis lost it. The disk decides what is done;
 * Redis only says what is happening to the rest.
 */
import { createHash } from "node:crypto";
import { Job } from "bullmq";
import { loadRun } from "../analysis/load.js";
import { type CollectedPrediction, type Collector, startCollector } from "../queue/collector.js";
import { sweepCancelKey, sweepJobsKey } from "../queue/names.js";
import {
  enqueueShards,
  listWorkers,
  QueueConnection,
  type ShardJob,
  type ShardStatus,
  shardStates,
} from "../queue/producer.js";
import { CANCELLED_REASON, type ShardData } from "../queue/types.js";
import type { JobSpec } from "../runs/spec.js";
import { runDir, type SweepManifest, shardJobSpec } from "./directory.js";
import type { QueueView, ShardState } from "./status.js";

export interface QueueTarget {
  redis: string;
  /** Key prefix in Redis (default "deepconf"). */
  prefix?: string;
  onWarning?: (message: string) => void;
}

export function openQueue(target: QueueTarget): Promise<QueueConnection> {
  return QueueConnection.open(target.redis, {
    prefix: target.prefix,
    onWarning: target.onWarning,
  });
}

/** Instance ids each run directory holds now (read-only). */
async function onDisk(sweep: SweepManifest, out: string): Promise<Map<string, Set<string>>> {
  const have = new Map<string, Set<string>>();
  for (const run of sweep.runs) {
    const loaded = await loadRun(runDir(out, run.run_id));
    have.set(run.run_id, new Set(loaded.predictions.map((p) => p.instance_id)));
  }
  return have;
}

const partHash = (ids: readonly string[]) =>
  createHash("sha256").update(JSON.stringify(ids)).digest("hex").slice(0, 10);

/** The planned shard a job stands for: itself, or the shard a `-part-` job was cut from. */
export function plannedShardOf(jobId: string): string {
  const at = jobId.indexOf("-part-");
  return at < 0 ? jobId : jobId.slice(0, at);
}

export interface PendingShard {
  /** The shard's job id as planned. */
  shardJobId: string;
  /** The job to enqueue: the whole shard, or only its missing instances. */
  jobId: string;
  spec: JobSpec;
  missing: number;
}

/**
 * The work the disk does not have: every shard with an instance not yet written. A shard with
 * some instances on disk becomes a job for the missing ones alone (its own job id).
 */
export async function pendingShards(sweep: SweepManifest, out: string): Promise<PendingShard[]> {
  const have = await onDisk(sweep, out);
  const pending: PendingShard[] = [];
  for (const run of sweep.runs) {
    const written = have.get(run.run_id) as Set<string>;
    for (const shard of run.shards) {
      const missing = shard.instance_ids.filter((id) => !written.has(id));
      if (missing.length === 0) continue;
      const whole = missing.length === shard.instance_ids.length;
      const spec: JobSpec = whole
        ? shardJobSpec(run, shard)
        : { ...run.spec, selection: { ...run.spec.selection, shard: null, ids: missing } };
      pending.push({
        shardJobId: shard.job_id,
        // A part of a shard is named after it, so status can tell which shard it stands for.
        jobId: whole ? shard.job_id : `${shard.job_id}-part-${partHash(missing)}`,
        spec,
        missing: missing.length,
      });
    }
  }
  return pending;
}

const LIVE = new Set(["waiting", "active", "delayed"]);

export interface EnqueueReport {
  /** Jobs added now. */
  added: string[];
  /** Jobs already waiting or running (left alone). */
  queued: string[];
  /** Shards whose instances are all on disk. */
  complete: number;
}

/**
 * Enqueues every pending shard that is not already waiting or running: the first launch (every
 * shard), and `sweep resume` after Redis lost the queue (only what the disk lacks). A shard
 * counts as queued while any job of it (the whole shard or a part) is waiting or running, so
 * launching or resuming during a run never adds a second job for the same instances. A shard
 * whose jobs Redis remembers as finished, failed or cancelled while the disk lacks results gets
 * a new job for the missing instances, and its old jobs go (a job id cannot be added twice, and
 * an old failed job would otherwise be retried or reported).
 */
export async function enqueuePending(
  connection: QueueConnection,
  sweep: SweepManifest,
  out: string,
): Promise<EnqueueReport> {
  const pending = await pendingShards(sweep, out);
  const sweepJobs = (await shardStates(connection, sweep.sweep_id)).shards;
  const listed = new Set(sweepJobs.map((s) => s.jobId));
  // Jobs the sweep's list lacks (a list lost while its jobs stayed) are looked up by id too.
  const unlisted = pending.map((p) => p.jobId).filter((id) => !listed.has(id));
  const known = [...sweepJobs, ...(await shardStates(connection, sweep.sweep_id, unlisted)).shards];
  const jobsOf = new Map<string, ShardStatus[]>();
  for (const job of known) {
    if (job.state === "missing") continue;
    const key = plannedShardOf(job.jobId);
    jobsOf.set(key, [...(jobsOf.get(key) ?? []), job]);
  }
  const jobs: ShardJob[] = [];
  const queued: string[] = [];
  const stale: string[] = [];
  for (const p of pending) {
    const existing = jobsOf.get(p.shardJobId) ?? [];
    const live = existing.filter((j) => LIVE.has(j.state));
    if (live.length > 0) {
      queued.push(...live.map((j) => j.jobId));
      continue;
    }
    for (const old of existing) {
      await (await Job.fromId<ShardData>(connection.queue, old.jobId))?.remove();
      stale.push(old.jobId);
    }
    jobs.push({ spec: p.spec, jobId: p.jobId, priority: sweep.priority ?? undefined });
  }
  if (stale.length > 0)
    await connection.redis.srem(sweepJobsKey(connection.prefix, sweep.sweep_id), ...stale);
  const total = sweep.runs.reduce((s, r) => s + r.shards.length, 0);
  await connection.redis.del(sweepCancelKey(connection.prefix, sweep.sweep_id));
  const result = await enqueueShards(connection, { sweepId: sweep.sweep_id, shards: jobs });
  return { added: result.added, queued, complete: total - pending.length };
}

/** The queue's side of `sweep status`: shard states by planned job id, and live workers. */
export async function queueView(
  connection: QueueConnection,
  sweep: SweepManifest,
): Promise<QueueView> {
  const all = await shardStates(connection, sweep.sweep_id);
  const byShard = new Map<string, { state: ShardState; error?: string }>();
  const planned = new Set(sweep.runs.flatMap((r) => r.shards.map((s) => s.job_id)));
  for (const shard of all.shards) {
    const key = plannedShardOf(shard.jobId);
    if (!planned.has(key)) continue;
    const state: ShardState | null =
      shard.state === "completed"
        ? "done"
        : shard.state === "delayed"
          ? "waiting"
          : shard.state === "missing"
            ? null
            : shard.state === "failed" && shard.failedReason?.startsWith(CANCELLED_REASON)
              ? "cancelled"
              : shard.state;
    if (state === null) continue;
    const known = byShard.get(key);
    // A live job wins over a finished or failed one for the same shard.
    const live = (x: ShardState) => x === "active" || x === "waiting";
    if (known === undefined || (live(state) && !(known.state === "active")))
      byShard.set(key, { state, error: shard.failedReason ?? undefined });
  }
  const cancelled =
    (await connection.redis.exists(sweepCancelKey(connection.prefix, sweep.sweep_id))) === 1;
  const workers = (await listWorkers(connection)).map((w) => ({
    id: w.id,
    host: w.host,
    device: w.device,
    models: w.models,
    current_job: w.jobs[0]?.jobId ?? null,
    last_heartbeat: w.heartbeatAt,
  }));
  return { shards: byShard, workers, cancelled };
}

export interface FollowOptions {
  out: string;
  target: QueueTarget;
  /** How often shard states are read (default 1 s). */
  pollMs?: number;
  signal?: AbortSignal;
  onPrediction?: (prediction: CollectedPrediction) => void;
  onProblem?: (message: string) => void;
}

/** An error that means Redis cannot be reached now (ioredis reconnects by itself). */
function unreachable(connection: QueueConnection, error: unknown): boolean {
  return (
    connection.redis.status !== "ready" ||
    /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|Connection is closed|Stream isn't writeable|max retries per request/i.test(
      (error as Error).message,
    )
  );
}

/**
 * Collects the sweep's results into its run directories until no shard of it is waiting or
 * running any more, then drains what is left on the stream. Returns the collector's counts.
 *
 * Redis going away does not end it: it says so, and goes on once Redis is back (the collector
 * reconnects by itself). A Redis that comes back without the sweep's jobs (restarted without
 * persistence) while the disk still lacks results does not end it either: it says that
 * `sweep resume` rebuilds the queue from the sweep directory, and follows the rebuilt queue.
 */
export async function followSweep(
  connection: QueueConnection,
  sweep: SweepManifest,
  options: FollowOptions,
) {
  const collector: Collector = await startCollector({
    redis: options.target.redis,
    prefix: options.target.prefix,
    sweepId: sweep.sweep_id,
    out: options.out,
    onPrediction: options.onPrediction,
    onProblem: options.onProblem,
  });
  const pause = () => new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1000));
  let away = false;
  let lost = false;
  try {
    for (;;) {
      if (options.signal?.aborted) return await collector.stop();
      let counts: Record<string, number>;
      try {
        counts = (await shardStates(connection, sweep.sweep_id)).counts;
      } catch (error) {
        if (!unreachable(connection, error)) throw error;
        if (!away) {
          options.onProblem?.(
            `Redis at ${connection.target.redacted} cannot be reached (${(error as Error).message}): waiting for it; results on disk are kept`,
          );
        }
        away = true;
        await pause();
        continue;
      }
      if (away) options.onProblem?.(`Redis at ${connection.target.redacted} is back`);
      away = false;
      const live = (counts.waiting ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0);
      const known = Object.values(counts).reduce((a, b) => a + b, 0);
      if (live > 0) lost = false;
      else if (known === 0 && (await pendingShards(sweep, options.out)).length > 0) {
        // Redis forgot the sweep (a restart without persistence): the disk says what is left.
        if (!lost) {
          options.onProblem?.(
            `Redis holds no job of sweep ${sweep.sweep_id} (restarted without persistence?) and the disk lacks results: \`deepconf sweep resume ${sweep.sweep_id}\` rebuilds the queue from the sweep directory; still following`,
          );
        }
        lost = true;
      } else break;
      await pause();
    }
    return await collector.stop({ drain: true });
  } catch (error) {
    await collector.stop().catch(() => undefined);
    throw error;
  }
}

/** Removes the sweep's waiting jobs; running ones stop after their instance in flight. */
export async function cancelSweep(connection: QueueConnection, sweep: SweepManifest) {
  await connection.redis.set(sweepCancelKey(connection.prefix, sweep.sweep_id), "1");
  const { shards } = await shardStates(connection, sweep.sweep_id);
  let removed = 0;
  let running = shards.filter((s) => s.state === "active").length;
  for (const shard of shards) {
    if (shard.state !== "waiting" && shard.state !== "delayed") continue;
    const job = await Job.fromId<ShardData>(connection.queue, shard.jobId);
    if (job === undefined) continue;
    try {
      await job.remove();
      removed++;
    } catch (error) {
      // A worker took it since its state was read: it is locked, and it stops by itself (the
      // worker checks the cancel key before a shard and after each instance).
      if (!/locked/i.test((error as Error).message)) throw error;
      running++;
    }
  }
  return { removed, running };
}

/** Puts the sweep's failed shards back in the queue. */
export async function retrySweep(connection: QueueConnection, sweep: SweepManifest) {
  await connection.redis.del(sweepCancelKey(connection.prefix, sweep.sweep_id));
  const { shards } = await shardStates(connection, sweep.sweep_id);
  const retried: string[] = [];
  for (const shard of shards) {
    if (shard.state !== "failed") continue;
    const job = await Job.fromId<ShardData>(connection.queue, shard.jobId);
    if (job) {
      await job.retry("failed");
      retried.push(shard.jobId);
    }
  }
  return { retried };
}
