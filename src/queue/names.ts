/**
 * Names in Redis: the one job queue, each sweep's results stream and job list, worker
 * heartbeats; and the deterministic id of a shard's job, derived from the spec alone so that
 * enqueueing a sweep twice adds nothing the second time.
 */
import { createHash } from "node:crypto";
import { InputError } from "../errors.js";
import { type JobSpec, runIdOf } from "../runs/spec.js";

/** Key prefix of everything this project keeps in Redis (BullMQ's `prefix` too). */
export const DEFAULT_PREFIX = "deepconf";
/** The BullMQ queue every shard goes to (keys `<prefix>:jobs:*`). */
export const QUEUE_NAME = "jobs";
/** BullMQ job name of a shard. */
export const SHARD_JOB_NAME = "shard";
/** The consumer group that writes a sweep's results to disk. */
export const COLLECTOR_GROUP = "collector";

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

/** A sweep id goes into job ids and keys: letters, digits, `_ . -`; no `:`. */
export function checkSweepId(sweepId: string): string {
  if (!ID.test(sweepId)) {
    throw new InputError(
      `sweep id "${sweepId}" must be 1-100 letters, digits, "_", "." or "-" and start with a letter or digit`,
    );
  }
  return sweepId;
}

/** A key prefix: no spaces, no `:` at the ends. */
export function checkPrefix(prefix: string): string {
  if (!/^[A-Za-z0-9_.-]+(?::[A-Za-z0-9_.-]+)*$/.test(prefix)) {
    throw new InputError(`key prefix "${prefix}" must be letters, digits, "_", "." or "-"`);
  }
  return prefix;
}

/**
 * The job id of a spec in a sweep: `<sweepId>.<runId>.s<index>of<count>` for a shard,
 * `...all` for a whole run, `...i<hash>` for an id subset. Never contains `:` and is never all
 * digits (BullMQ's rules); equal for equal specs, so a duplicate add is ignored.
 */
export function shardJobId(sweepId: string, spec: JobSpec): string {
  const { shard, ids } = spec.selection;
  const parts: string[] = [];
  if (shard !== null) parts.push(`s${shard.index}of${shard.count}`);
  if (ids !== null) {
    const hash = createHash("sha256").update(JSON.stringify(ids)).digest("hex").slice(0, 10);
    parts.push(`i${hash}`);
  }
  return `${checkSweepId(sweepId)}.${runIdOf(spec)}.${parts.length > 0 ? parts.join("-") : "all"}`;
}

/** The stream a sweep's finished predictions travel on, worker to collector. */
export function resultsStreamKey(prefix: string, sweepId: string): string {
  return `${prefix}:sweep:${checkSweepId(sweepId)}:results`;
}

/** The set of a sweep's job ids (what enqueueShards added), for shard states. */
export function sweepJobsKey(prefix: string, sweepId: string): string {
  return `${prefix}:sweep:${checkSweepId(sweepId)}:jobs`;
}

/** Set when a sweep is cancelled: workers stop its shards after the instance in flight. */
export function sweepCancelKey(prefix: string, sweepId: string): string {
  return `${prefix}:sweep:${checkSweepId(sweepId)}:cancelled`;
}

/** A worker's heartbeat hash (expires when the worker stops beating). */
export function workerKey(prefix: string, workerId: string): string {
  return `${prefix}:worker:${workerId}`;
}

export function workerKeyPattern(prefix: string): string {
  return `${prefix}:worker:*`;
}
