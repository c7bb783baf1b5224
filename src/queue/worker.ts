/**
 * The inference worker: a BullMQ Worker whose processor runs a shard with runJob and sends each
 * finished prediction to its sweep's results stream at once (XADD), then records the instance in
 * the job's progress. A job that runs again (a stalled job after a kill -9, a shard handed back)
 * skips what its progress lists; an instance sent but not yet listed is sent twice and the
 * collector keeps one. One JobResources per worker: models stay loaded between jobs, and run on
 * their own threads so lock renewals never wait for inference.
 *
 * stop() (SIGTERM, SIGINT) lets each job finish its instance in flight, hands the rest of the
 * job back to the queue (moved to wait, skipping what was delivered) and closes. A crash or
 * kill -9 leaves the job locked until BullMQ's stalled check (another worker's) re-queues it.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { type Job, Queue, UnrecoverableError, WaitingError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { InputError } from "../errors.js";
import { type ResultSink, runJob } from "../runs/job.js";
import { JobResources } from "../runs/resources.js";
import { type JobSpec, parseJobSpec, runIdOf, selectItems } from "../runs/spec.js";
import {
  checkPrefix,
  checkSweepId,
  DEFAULT_PREFIX,
  QUEUE_NAME,
  resultsStreamKey,
  sweepCancelKey,
  workerKey,
} from "./names.js";
import { closeRedis, connectRedis, type RedisTarget, redactSecrets } from "./redis.js";
import {
  CANCELLED_REASON,
  parseProgress,
  RESULT_FIELDS,
  type ShardData,
  type ShardProgress,
  type ShardResult,
  type WorkerHeartbeat,
} from "./types.js";

export interface InferenceWorkerOptions {
  /** redis://[:password@]host:port[/db] */
  redis: string;
  /** Key prefix (default "deepconf"). */
  prefix?: string;
  /** Downloads, derived graphs and the built-in model. */
  cacheDir: string;
  /** Overrides every job's device (default: each spec's own). */
  device?: JobSpec["device"];
  deviceId?: number;
  threads?: number;
  /** Traces decoding at once across a job's instances; unset: one instance at a time. */
  maxRows?: number;
  offline?: boolean;
  /** Jobs at once (default 1; one per GPU). */
  concurrency?: number;
  /** BullMQ lock (default 30 s, renewed every half); a killed worker's job waits this long. */
  lockDurationMs?: number;
  /** How often this worker looks for stalled jobs (default 30 s). */
  stalledIntervalMs?: number;
  /** Stalls a job survives before it fails (default 3; handing back is not a stall). */
  maxStalledCount?: number;
  /** Heartbeat period (default 5 s; the hash expires after 3 periods without one). */
  heartbeatMs?: number;
  /** Stop once no job has been waiting, delayed or active for this long (default: never). */
  idleExitMs?: number | null;
  /** How long connecting may take (default 5 s). */
  connectTimeoutMs?: number;
  /** The rented node this worker runs on (`deepconf nodes` matches heartbeats by it). */
  node?: string | null;
  /** One line per event (job started, done, handed back, failed; warnings). */
  log?: (line: string) => void;
}

export type WorkerExit = "stopped" | "idle";

interface RunningJob {
  jobId: string;
  sweepId: string;
  runId: string;
  done: number;
  total: number;
}

/** Job states that mean work is still to come. */
const PENDING_STATES = ["waiting", "active", "delayed", "prioritized", "waiting-children"] as const;

function safeHost(): string {
  return hostname().replace(/[^A-Za-z0-9_.-]+/g, "-") || "host";
}

export class InferenceWorker {
  readonly id: string;
  readonly startedAt = new Date().toISOString();
  /** Resolves when the worker has closed: stopped, or idle for idleExitMs. */
  readonly exited: Promise<WorkerExit>;

  private readonly resources: JobResources;
  private readonly shutdown = new AbortController();
  private readonly running = new Map<string, RunningJob>();
  private readonly timers: NodeJS.Timeout[] = [];
  private worker!: Worker<ShardData, ShardResult>;
  private queue!: Queue<ShardData>;
  private stopping: Promise<void> | null = null;
  private exitReason: WorkerExit = "stopped";
  private resolveExit!: (reason: WorkerExit) => void;
  private idleSince: number | null = null;
  /** When a job last ran here (the start, at first): idle terminate counts from it. */
  private lastWorkAt = new Date().toISOString();
  private lastError = "";

  private constructor(
    private readonly options: InferenceWorkerOptions,
    private readonly redis: Redis,
    readonly target: RedisTarget,
    readonly prefix: string,
  ) {
    this.id = `${safeHost()}.${process.pid}.${randomBytes(2).toString("hex")}`;
    this.exited = new Promise((resolve) => {
      this.resolveExit = resolve;
    });
    this.resources = new JobResources({
      cacheDir: options.cacheDir,
      device: options.device,
      deviceId: options.deviceId,
      threads: options.threads,
      maxRows: options.maxRows,
      offline: options.offline,
      onNote: (note) => this.log(note),
    });
  }

  /** Connects (a clear InputError within seconds when Redis cannot be used) and starts. */
  static async start(options: InferenceWorkerOptions): Promise<InferenceWorker> {
    const prefix = checkPrefix(options.prefix ?? DEFAULT_PREFIX);
    const log = options.log ?? (() => undefined);
    const { client, target } = await connectRedis(options.redis, {
      role: "worker",
      timeoutMs: options.connectTimeoutMs,
      onWarning: log,
    });
    const self = new InferenceWorker(options, client, target, prefix);
    client.on("error", (error: Error) => self.logError(error));
    self.begin();
    return self;
  }

  /** The models this worker holds (JobResources keys). */
  get models(): string[] {
    return this.resources.loadedModels;
  }

  get activeJobs(): RunningJob[] {
    return [...this.running.values()];
  }

  /**
   * Finish each job's instance in flight, hand the rest back to the queue, close. Idempotent;
   * resolves once everything is closed.
   */
  stop(reason: WorkerExit = "stopped"): Promise<void> {
    if (this.stopping === null) {
      this.exitReason = reason;
      this.shutdown.abort(new Error(`worker ${reason}`));
      this.stopping = this.close();
    }
    return this.stopping;
  }

  private log(line: string): void {
    this.options.log?.(redactSecrets(line, this.target));
  }

  private logError(error: Error): void {
    const message = redactSecrets(error.message, this.target);
    if (message === this.lastError) return;
    this.lastError = message;
    this.log(`redis: ${message}`);
  }

  private begin(): void {
    const o = this.options;
    this.worker = new Worker<ShardData, ShardResult>(
      QUEUE_NAME,
      (job, token, signal) => this.process(job, token, signal),
      {
        connection: this.redis,
        prefix: this.prefix,
        name: this.id,
        autorun: false,
        concurrency: o.concurrency ?? 1,
        lockDuration: o.lockDurationMs ?? 30_000,
        stalledInterval: o.stalledIntervalMs ?? 30_000,
        maxStalledCount: o.maxStalledCount ?? 3,
      },
    );
    this.worker.on("error", (error) => this.logError(error));
    this.queue = new Queue<ShardData>(QUEUE_NAME, { connection: this.redis, prefix: this.prefix });
    this.queue.on("error", (error) => this.logError(error));
    this.worker.on("failed", (job, error) => {
      if (job === undefined) return;
      const tries = job.opts.attempts ?? 1;
      const more = job.attemptsMade < tries && error.name !== "UnrecoverableError";
      this.log(
        `job ${job.id}: failed${more ? ` (try ${job.attemptsMade} of ${tries}; it will be retried)` : ""}: ${error.message}`,
      );
    });
    this.worker.run().catch((error: Error) => this.logError(error));

    const beat = o.heartbeatMs ?? 5000;
    void this.heartbeat();
    this.timers.push(setInterval(() => void this.heartbeat(), beat));
    if (o.idleExitMs !== undefined && o.idleExitMs !== null) {
      const every = Math.max(100, Math.min(1000, o.idleExitMs / 4));
      this.timers.push(setInterval(() => void this.checkIdle(o.idleExitMs as number), every));
    }
  }

  private async checkIdle(idleMs: number): Promise<void> {
    if (this.stopping !== null) return;
    let pending = this.running.size;
    if (pending === 0) {
      try {
        const counts = await this.queue.getJobCounts(...PENDING_STATES);
        pending = Object.values(counts).reduce((a, b) => a + b, 0);
      } catch {
        return;
      }
    }
    const now = Date.now();
    if (pending > 0) this.idleSince = null;
    else if (this.idleSince === null) this.idleSince = now;
    else if (now - this.idleSince >= idleMs) {
      this.log(`idle for ${Math.round(idleMs / 1000)} s: exiting`);
      void this.stop("idle");
    }
  }

  private heartbeatRecord(): WorkerHeartbeat {
    const o = this.options;
    return {
      id: this.id,
      host: hostname(),
      node: o.node ?? null,
      pid: process.pid,
      device: o.device ?? "spec",
      deviceId: o.deviceId ?? null,
      concurrency: o.concurrency ?? 1,
      state: this.stopping !== null ? "stopping" : this.running.size > 0 ? "busy" : "idle",
      models: this.resources.loadedModels,
      jobs: this.activeJobs,
      startedAt: this.startedAt,
      lastWorkAt: this.running.size > 0 ? new Date().toISOString() : this.lastWorkAt,
      heartbeatAt: new Date().toISOString(),
    };
  }

  private async heartbeat(): Promise<void> {
    const record = this.heartbeatRecord();
    const key = workerKey(this.prefix, this.id);
    const ttl = 3 * (this.options.heartbeatMs ?? 5000);
    try {
      await this.redis
        .multi()
        .hset(key, {
          heartbeat: JSON.stringify(record),
          host: record.host,
          pid: String(record.pid),
          device: record.device,
          state: record.state,
          models: JSON.stringify(record.models),
          jobs: JSON.stringify(record.jobs.map((j) => j.jobId)),
          heartbeat_at: record.heartbeatAt,
        })
        .pexpire(key, ttl)
        .exec();
    } catch {
      // Redis away: the next beat tries again.
    }
  }

  /** The processor: one shard, results streamed, the rest handed back on shutdown. */
  private async process(
    job: Job<ShardData, ShardResult>,
    token: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<ShardResult> {
    const jobId = job.id ?? "?";
    if (this.shutdown.signal.aborted) return this.handBack(job, token, 0, 0);
    let spec: JobSpec;
    let sweepId: string;
    try {
      spec = parseJobSpec(job.data?.spec, `job ${jobId}`);
      sweepId = checkSweepId(String(job.data?.sweepId));
    } catch (error) {
      throw new UnrecoverableError((error as Error).message);
    }
    const runId = runIdOf(spec);
    const stream = resultsStreamKey(this.prefix, sweepId);
    // A cancelled sweep's shards stop after the instance in flight (checked after each one).
    const cancelKey = sweepCancelKey(this.prefix, sweepId);
    const cancel = new AbortController();
    if (await this.redis.exists(cancelKey)) {
      throw new UnrecoverableError(`${CANCELLED_REASON} before this shard started`);
    }
    const fail = (error: unknown): never => {
      const message = redactSecrets((error as Error).message ?? String(error), this.target);
      if (error instanceof InputError) throw new UnrecoverableError(message);
      throw error instanceof Error ? error : new Error(message);
    };
    const ids = await this.resources
      .benchmark(spec)
      .then((b) => selectItems(b.items, spec.selection).map((item) => item.id))
      .catch(fail);
    const selected = new Set(ids);
    const delivered = new Set(parseProgress(job.progress)?.ids.filter((id) => selected.has(id)));
    const state: RunningJob = { jobId, sweepId, runId, done: delivered.size, total: ids.length };
    const progress = (): ShardProgress => ({
      runId,
      done: delivered.size,
      total: ids.length,
      ids: [...delivered],
    });
    this.running.set(jobId, state);
    this.idleSince = null;
    void this.heartbeat();
    const before = delivered.size;
    this.log(
      `job ${jobId}: started (run ${runId}, ${ids.length} instances${before > 0 ? `, ${before} delivered before` : ""})`,
    );
    try {
      await job.updateProgress(progress());
      const sink: ResultSink = {
        finished: delivered,
        append: async (prediction) => {
          // The stream first: once an id is in the progress, no later try sends it again. The
          // cancel key is read in the same round trip.
          const replies = await this.redis
            .pipeline()
            .xadd(
              stream,
              "*",
              RESULT_FIELDS.runId,
              runId,
              RESULT_FIELDS.instanceId,
              prediction.instance_id,
              RESULT_FIELDS.jobId,
              jobId,
              RESULT_FIELDS.prediction,
              JSON.stringify({ ...prediction, run_id: runId }),
            )
            .exists(cancelKey)
            .exec();
          const failed = replies?.find(([error]) => error !== null)?.[0];
          if (failed || replies === null) throw failed ?? new Error("Redis dropped the reply");
          delivered.add(prediction.instance_id);
          state.done = delivered.size;
          await job.updateProgress(progress());
          if (replies[1]?.[1] === 1) cancel.abort();
        },
      };
      const stop = AbortSignal.any([
        cancel.signal,
        this.shutdown.signal,
        ...(signal ? [signal] : []),
      ]);
      const outcome = await runJob(spec, sink, { resources: this.resources, signal: stop }).catch(
        fail,
      );
      const ran = delivered.size - before;
      if (outcome.interrupted) {
        if (this.shutdown.signal.aborted)
          return this.handBack(job, token, delivered.size, ids.length);
        if (cancel.signal.aborted) {
          throw new UnrecoverableError(
            `${CANCELLED_REASON}: stopped after ${delivered.size} of ${ids.length} instances`,
          );
        }
        const reason = signal?.reason instanceof Error ? `: ${signal.reason.message}` : "";
        throw new UnrecoverableError(
          `cancelled after ${delivered.size} of ${ids.length} instances${reason}`,
        );
      }
      this.log(`job ${jobId}: done (${ran} instances run, ${delivered.size} of ${ids.length})`);
      return { runId, done: delivered.size, total: ids.length, ran };
    } finally {
      this.running.delete(jobId);
      this.lastWorkAt = new Date().toISOString();
    }
  }

  /** Puts the job back in the queue (its progress says what is delivered) and tells BullMQ. */
  private async handBack(
    job: Job<ShardData, ShardResult>,
    token: string | undefined,
    done: number,
    total: number,
  ): Promise<never> {
    try {
      await job.moveToWait(token);
      this.log(`job ${job.id}: handed back to the queue after ${done} of ${total} instances`);
    } catch (error) {
      // The lock is gone (another worker took the job over): nothing to hand back.
      this.log(`job ${job.id}: could not hand back: ${(error as Error).message}`);
    }
    throw new WaitingError();
  }

  private async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    try {
      await this.worker.close();
    } catch (error) {
      this.logError(error as Error);
    }
    await this.queue.close().catch(() => undefined);
    try {
      await this.redis.del(workerKey(this.prefix, this.id));
    } catch {
      // It expires by itself.
    }
    await this.resources.close();
    await closeRedis(this.redis);
    this.resolveExit(this.exitReason);
  }
}
