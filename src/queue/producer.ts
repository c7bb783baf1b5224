/**
 * The orchestrator's side of the queue: put a sweep's shards on it (idempotently: a shard's job
 * id comes from its spec, and a duplicate add is ignored), read back what state each shard is
 * in, and list the workers that are alive.
 */
import { Job, Queue } from "bullmq";
import type { Redis } from "ioredis";
import { InputError } from "../errors.js";
import { tokenFromEnv } from "../hf/settings.js";
import { type JobSpec, parseJobSpec, runIdOf } from "../runs/spec.js";
import {
  checkPrefix,
  checkSweepId,
  DEFAULT_PREFIX,
  QUEUE_NAME,
  SHARD_JOB_NAME,
  shardJobId,
  sweepJobsKey,
  workerKeyPattern,
} from "./names.js";
import { closeRedis, connectRedis, type RedisTarget } from "./redis.js";
import { parseProgress, type ShardData, type WorkerHeartbeat } from "./types.js";

export interface QueueConnectionOptions {
  /** Key prefix in Redis (default "deepconf"); tests use their own. */
  prefix?: string;
  /** How long the first connection may take (default 5 s). */
  timeoutMs?: number;
  onWarning?: (message: string) => void;
}

/** An open connection to the job queue, for producers and monitors. Close it when done. */
export class QueueConnection {
  private constructor(
    readonly queue: Queue<ShardData>,
    readonly redis: Redis,
    readonly target: RedisTarget,
    readonly prefix: string,
  ) {}

  /** Connects and checks Redis: an InputError within a few seconds when it cannot be used. */
  static async open(url: string, options: QueueConnectionOptions = {}): Promise<QueueConnection> {
    const prefix = checkPrefix(options.prefix ?? DEFAULT_PREFIX);
    const { client, target } = await connectRedis(url, {
      role: "producer",
      timeoutMs: options.timeoutMs,
      onWarning: options.onWarning,
    });
    const queue = new Queue<ShardData>(QUEUE_NAME, { connection: client, prefix });
    // Errors surface on the calls that hit them; the event only keeps them off the console.
    queue.on("error", () => undefined);
    return new QueueConnection(queue, client, target, prefix);
  }

  async close(): Promise<void> {
    await this.queue.close();
    await closeRedis(this.redis);
  }
}

export interface ShardJob {
  spec: JobSpec;
  /** Default: shardJobId(sweepId, spec). */
  jobId?: string;
  /** BullMQ priority: 1 is the highest, up to 2,097,152; absent: no priority. */
  priority?: number;
}

export interface EnqueueOptions {
  sweepId: string;
  shards: readonly ShardJob[];
  /**
   * Tries per shard for errors that may pass (default 3, exponential backoff from 10 s). Errors
   * in what was given (a missing model folder, a bad spec) fail at once; a stalled job (a
   * killed worker) is recovered without using up a try.
   */
  attempts?: number;
  backoffMs?: number;
}

export interface EnqueueResult {
  /** Job ids in the order of the shards. */
  jobIds: string[];
  /** Those that were new. */
  added: string[];
  /** Those already in the queue (in any state): left as they are. */
  existing: string[];
}

const MAX_PRIORITY = 2_097_152;

function checkJobId(jobId: string): string {
  if (jobId.includes(":") || /^\d+$/.test(jobId) || jobId.length === 0) {
    throw new InputError(`job id "${jobId}" may not contain ":" and may not be all digits`);
  }
  return jobId;
}

/**
 * Adds one job per shard, data `{sweepId, spec}`. Idempotent: a shard whose job id is already in
 * the queue (waiting, running, done or failed) is left alone, so enqueueing a sweep again adds
 * only what is missing.
 */
export async function enqueueShards(
  connection: QueueConnection,
  options: EnqueueOptions,
): Promise<EnqueueResult> {
  const sweepId = checkSweepId(options.sweepId);
  const token = tokenFromEnv();
  const jobs = options.shards.map((shard, i) => {
    const spec = parseJobSpec(shard.spec, `shard ${i}`);
    const jobId = checkJobId(shard.jobId ?? shardJobId(sweepId, spec));
    const data: ShardData = { sweepId, spec };
    if (token !== null && JSON.stringify(data).includes(token)) {
      throw new InputError(
        `shard ${jobId}: the job data contains HF_TOKEN; it must never be queued`,
      );
    }
    const { priority } = shard;
    if (priority !== undefined && !(Number.isInteger(priority) && priority >= 1)) {
      throw new InputError(`shard ${jobId}: priority must be a whole number >= 1`);
    }
    return {
      jobId,
      data,
      priority: priority === undefined ? undefined : Math.min(priority, MAX_PRIORITY),
    };
  });
  const unique = new Set(jobs.map((j) => j.jobId));
  if (unique.size !== jobs.length) {
    throw new InputError(`sweep ${sweepId}: two shards have the same job id`);
  }
  if (jobs.length === 0) return { jobIds: [], added: [], existing: [] };

  const { queue, redis } = connection;
  const keyOf = (jobId: string) => queue.toKey(jobId);
  const exists = await redis.pipeline(jobs.map((j) => ["exists", keyOf(j.jobId)])).exec();
  const existing = new Set(jobs.filter((_j, i) => exists?.[i]?.[1] === 1).map((j) => j.jobId));
  // The sweep's job list first: a job that exists is always listed.
  await redis.sadd(sweepJobsKey(connection.prefix, sweepId), ...jobs.map((j) => j.jobId));
  const attempts = options.attempts ?? 3;
  await queue.addBulk(
    jobs.map((j) => ({
      name: SHARD_JOB_NAME,
      data: j.data,
      opts: {
        jobId: j.jobId,
        priority: j.priority,
        attempts,
        backoff: { type: "exponential", delay: options.backoffMs ?? 10_000 },
      },
    })),
  );
  return {
    jobIds: jobs.map((j) => j.jobId),
    added: jobs.filter((j) => !existing.has(j.jobId)).map((j) => j.jobId),
    existing: [...existing],
  };
}

export type ShardState = "waiting" | "active" | "delayed" | "completed" | "failed" | "missing";

export interface ShardStatus {
  jobId: string;
  runId: string | null;
  state: ShardState;
  /** Instances delivered so far, of the shard's total (0 of 0 before it first starts). */
  done: number;
  total: number;
  /** The error of a failed shard (the worker's message). */
  failedReason: string | null;
  attemptsMade: number;
  /** Name of the worker that last took it. */
  worker: string | null;
}

export interface SweepShards {
  counts: Record<ShardState, number>;
  shards: ShardStatus[];
}

function stateOf(state: string): ShardState {
  switch (state) {
    case "active":
    case "completed":
    case "failed":
    case "delayed":
      return state;
    case "waiting":
    case "prioritized":
    case "waiting-children":
      return "waiting";
    default:
      return "missing";
  }
}

/** The job ids enqueueShards added for a sweep (those Redis still remembers). */
export async function sweepJobIds(connection: QueueConnection, sweepId: string): Promise<string[]> {
  const ids = await connection.redis.smembers(sweepJobsKey(connection.prefix, sweepId));
  return ids.sort();
}

/**
 * Each shard's state and progress. `jobIds` defaults to the sweep's list in Redis; pass the
 * sweep manifest's list to see shards Redis has lost (state "missing").
 */
export async function shardStates(
  connection: QueueConnection,
  sweepId: string,
  jobIds?: readonly string[],
): Promise<SweepShards> {
  const ids = jobIds ?? (await sweepJobIds(connection, sweepId));
  const counts: Record<ShardState, number> = {
    waiting: 0,
    active: 0,
    delayed: 0,
    completed: 0,
    failed: 0,
    missing: 0,
  };
  const shards: ShardStatus[] = [];
  for (const jobId of ids) {
    const job = await Job.fromId<ShardData>(connection.queue, jobId);
    const state = job === undefined ? "missing" : stateOf(await job.getState());
    const progress = parseProgress(job?.progress);
    const spec = job?.data?.spec;
    shards.push({
      jobId,
      runId: progress?.runId || (spec ? runIdOf(spec) : null),
      state,
      done: progress?.done ?? 0,
      total: progress?.total ?? 0,
      failedReason: job?.failedReason || null,
      attemptsMade: job?.attemptsMade ?? 0,
      worker: job?.processedBy ?? null,
    });
    counts[state]++;
  }
  return { counts, shards };
}

/** Workers whose heartbeat has not expired. */
export async function listWorkers(connection: QueueConnection): Promise<WorkerHeartbeat[]> {
  const { redis } = connection;
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, found] = await redis.scan(
      cursor,
      "MATCH",
      workerKeyPattern(connection.prefix),
      "COUNT",
      200,
    );
    cursor = next;
    keys.push(...found);
  } while (cursor !== "0");
  const workers: WorkerHeartbeat[] = [];
  for (const key of keys.sort()) {
    const hash = await redis.hgetall(key);
    if (hash.heartbeat === undefined) continue;
    try {
      workers.push(JSON.parse(hash.heartbeat) as WorkerHeartbeat);
    } catch {
      // A half-written hash: the next beat replaces it.
    }
  }
  return workers;
}
