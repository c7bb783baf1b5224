/** `deepconf worker`: commander wiring and signals; the work is InferenceWorker's. */
import { type Command, InvalidArgumentError, Option } from "commander";
import { InputError } from "../errors.js";
import { cacheDirFromEnv } from "../hf/settings.js";
import { DEFAULT_PREFIX } from "../queue/names.js";
import { InferenceWorker } from "../queue/worker.js";
import type { JobSpec } from "../runs/spec.js";
import type { CliIO } from "./io.js";
import { nonNegativeInteger, positiveInteger } from "./parse.js";

/** --redis, else REDIS_URL. */
export function redisUrlFrom(flag: string | undefined): string {
  const url = flag ?? process.env.REDIS_URL;
  if (url === undefined || url.trim() === "") {
    throw new InputError("no Redis: give --redis redis://[:password@]host:port or set REDIS_URL");
  }
  return url.trim();
}

/** Seconds (a non-negative number) to milliseconds. */
export function seconds(text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(`expected a number of seconds >= 0, got "${text}"`);
  }
  return Math.round(value * 1000);
}

/** Installs SIGINT/SIGTERM handlers: the first stops gently, a second exits at once. */
export function onStopSignals(io: CliIO, what: string, stop: () => void): () => void {
  let signalled = false;
  const handler = (signal: NodeJS.Signals) => {
    if (signalled) {
      io.stderr(`deepconf: ${signal} again: exiting now\n`);
      process.exit(130);
    }
    signalled = true;
    io.stderr(`deepconf: ${signal}: ${what} (send it again to exit at once)\n`);
    stop();
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
}

interface WorkerFlags {
  redis?: string;
  prefix: string;
  device?: JobSpec["device"];
  deviceId?: number;
  concurrency: number;
  idleExit?: number;
  cacheDir?: string;
  threads?: number;
  maxRows?: number;
  offline?: boolean;
  lockDuration: number;
  stalledInterval: number;
  maxStalled: number;
  heartbeat: number;
  node?: string;
}

export function registerWorker(program: Command, io: CliIO): void {
  program
    .command("worker")
    .summary(
      "run shards from the job queue (BullMQ on Redis); results stream back to the collector",
    )
    .description(
      "Takes shard jobs from the queue and runs them (models are loaded on demand and kept between " +
        "jobs). Each finished instance is sent at once to the sweep's results stream and recorded in " +
        "the job's progress, so a job that runs again skips it. SIGTERM or Ctrl-C finishes the " +
        "instance in flight, hands the rest of the job back to the queue and exits 0; a worker " +
        "that is killed leaves its job to BullMQ's stalled-job recovery by another worker.",
    )
    .option("--redis <url>", "redis://[:password@]host:port[/db] (default: $REDIS_URL)")
    .option("--prefix <prefix>", "key prefix in Redis", DEFAULT_PREFIX)
    .addOption(
      new Option(
        "--device <device>",
        "run every job here (default: each job's own device)",
      ).choices(["cpu", "cuda", "webgpu", "auto"]),
    )
    .option("--device-id <n>", "GPU index", nonNegativeInteger)
    .option("--concurrency <n>", "jobs at once (one per GPU)", positiveInteger, 1)
    .option(
      "--idle-exit <seconds>",
      "exit 0 once no job has been waiting or active this long",
      seconds,
    )
    .option("--cache-dir <dir>", "downloads, derived graphs and the built-in model")
    .option("--threads <n>", "CPU threads per model", positiveInteger)
    .option(
      "--max-rows <n>",
      "traces decoding at once across instances (continuous batching); default: one instance at a time",
      positiveInteger,
    )
    .option("--offline", "never use the network (models and benchmarks from the cache)")
    .option(
      "--lock-duration <ms>",
      "job lock; a killed worker's job is recovered after about this",
      positiveInteger,
      30_000,
    )
    .option(
      "--stalled-interval <ms>",
      "how often to look for stalled jobs",
      positiveInteger,
      30_000,
    )
    .option("--max-stalled <n>", "stalls a job survives before it fails", positiveInteger, 3)
    .option("--heartbeat <ms>", "heartbeat period", positiveInteger, 5000)
    .option("--node <name>", "the rented node this worker runs on (set by `deepconf nodes`)")
    .action(async (flags: WorkerFlags) => {
      const log = (line: string) => io.stderr(`deepconf worker: ${line}\n`);
      const worker = await InferenceWorker.start({
        redis: redisUrlFrom(flags.redis),
        prefix: flags.prefix,
        cacheDir: flags.cacheDir ?? cacheDirFromEnv(),
        device: flags.device,
        deviceId: flags.deviceId,
        threads: flags.threads,
        maxRows: flags.maxRows,
        offline: flags.offline,
        concurrency: flags.concurrency,
        idleExitMs: flags.idleExit ?? null,
        lockDurationMs: flags.lockDuration,
        stalledIntervalMs: flags.stalledInterval,
        maxStalledCount: flags.maxStalled,
        heartbeatMs: flags.heartbeat,
        node: flags.node ?? null,
        log,
      });
      log(
        `${worker.id} ready: ${worker.target.redacted}, prefix ${worker.prefix}, device ${flags.device ?? "per job"}, concurrency ${flags.concurrency}`,
      );
      const release = onStopSignals(
        io,
        "finishing the instance in flight, then handing the rest of the job back",
        () => void worker.stop(),
      );
      try {
        const reason = await worker.exited;
        log(`${worker.id} exited (${reason})`);
      } finally {
        release();
      }
    });
}
