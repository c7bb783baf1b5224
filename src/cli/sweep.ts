/** `deepconf sweep ...`: commander wiring, progress and Ctrl-C; the work is src/sweep's. */
import cliProgress from "cli-progress";
import type { Command } from "commander";
import { ExitStatus, InputError } from "../errors.js";
import type { QueueConnection } from "../queue/producer.js";
import type { SweepManifest } from "../sweep/directory.js";
import { DEFAULT_SWEEP_OUT, listSweeps, loadSweep } from "../sweep/directory.js";
import { launchReport, planSweepFile, prepareSweep, runSweepHere } from "../sweep/launch.js";
import { estimatePlan } from "../sweep/plan.js";
import {
  cancelSweep,
  enqueuePending,
  followSweep,
  openQueue,
  type QueueTarget,
  queueView,
  retrySweep,
} from "../sweep/queue.js";
import { planText, statusText } from "../sweep/render.js";
import { sweepStatus } from "../sweep/status.js";
import type { CliIO } from "./io.js";
import { numberIn, positiveInteger } from "./parse.js";
import { downloadProgress } from "./progress.js";

interface CommonFlags {
  out: string;
  redis?: string;
  prefix?: string;
  cacheDir?: string;
  offline?: boolean;
  json?: boolean;
}

/** A bar on a terminal, a line every tenth otherwise. */
function instanceProgress(io: CliIO) {
  let bar: cliProgress.SingleBar | null = null;
  let done = 0;
  let total = 0;
  return {
    start(all: number, before: number) {
      total = all;
      done = before;
      if (!process.stderr.isTTY) return;
      bar = new cliProgress.SingleBar(
        {
          stream: process.stderr,
          hideCursor: true,
          format: "{bar} {value}/{total} instances | ETA {eta_formatted}",
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(all, before);
    },
    tick() {
      done++;
      if (bar) bar.update(done);
      else if (done === total || done % Math.max(1, Math.round(total / 10)) === 0)
        io.stderr(`deepconf: ${done}/${total} instances\n`);
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}

/** The newest sweep under `out` when no id is given. */
function sweepIdOr(id: string | undefined, out: string): string {
  if (id !== undefined) return id;
  const all = listSweeps(out);
  const last = all.at(-1);
  if (last === undefined)
    throw new InputError(`no sweep in ${out}: launch one with deepconf sweep launch FILE`);
  return last;
}

/** --redis, else REDIS_URL; null: no queue (in this process / from the disk only). */
function queueTarget(flags: CommonFlags, io: CliIO): QueueTarget | null {
  const redis = flags.redis ?? process.env.REDIS_URL;
  if (redis === undefined || redis === "") return null;
  return { redis, prefix: flags.prefix, onWarning: (w) => io.stderr(`deepconf: ${w}\n`) };
}

function requireQueue(flags: CommonFlags, io: CliIO, what: string): QueueTarget {
  const target = queueTarget(flags, io);
  if (target === null)
    throw new InputError(`${what} needs the queue: give --redis URL (or set REDIS_URL)`);
  return target;
}

async function withQueue<T>(target: QueueTarget, work: (c: QueueConnection) => Promise<T>) {
  const connection = await openQueue(target);
  try {
    return await work(connection);
  } finally {
    await connection.close();
  }
}

async function statusOf(sweep: SweepManifest, flags: CommonFlags, io: CliIO) {
  const target = queueTarget(flags, io);
  const view = target === null ? null : await withQueue(target, (c) => queueView(c, sweep));
  return sweepStatus(sweep, flags.out, view);
}

function addQueueOptions(command: Command): Command {
  return command
    .option(
      "--redis <url>",
      "the job queue's Redis (default: REDIS_URL; none: this process / disk only)",
    )
    .option("--prefix <prefix>", "key prefix in Redis", "deepconf");
}

export function registerSweep(program: Command, io: CliIO): void {
  const sweep = program
    .command("sweep")
    .summary("plan, launch and monitor sweeps: models x benchmarks x methods x seeds")
    .description(
      "A sweep file (config/*.yaml) names models, benchmarks, methods, params overrides, seeds, a " +
        "shard size and a priority. `plan` expands and prices it, `launch` writes the sweep " +
        "directory (the truth: sweep.json and the runs' directories) and runs its shards.",
    );

  sweep
    .command("plan")
    .summary("expand a sweep file into runs and shards and estimate its cost; nothing starts")
    .argument("<file>", "sweep file (YAML or JSON)")
    .option(
      "--throughput <tokens-per-s>",
      "tokens per second per GPU, for GPU hours",
      numberIn(0, Number.MAX_SAFE_INTEGER, { minExclusive: true }),
    )
    .option(
      "--price <usd-per-hour>",
      "price of a GPU hour, for the cost",
      numberIn(0, Number.MAX_SAFE_INTEGER),
    )
    .option("--cache-dir <dir>", "downloads and the built-in model")
    .option("--offline", "never use the network")
    .option("--json", "print the plan as JSON")
    .action(
      async (
        file: string,
        flags: Omit<CommonFlags, "out"> & { throughput?: number; price?: number },
      ) => {
        const { plan } = await planSweepFile(file, {
          cacheDir: flags.cacheDir,
          offline: flags.offline,
          onNote: (note) => io.stderr(`deepconf: ${note}\n`),
        });
        const estimate = estimatePlan(plan, flags.throughput, flags.price);
        if (flags.json) {
          io.stdout(
            `${JSON.stringify({
              sweep_id: plan.sweepId,
              runs: plan.runs.map((r) => ({
                run_id: r.runId,
                spec: r.spec,
                instances: r.instances,
                shards: r.shards.map((s) => ({ job_id: s.jobId, instances: s.instanceIds.length })),
              })),
              estimate,
            })}\n`,
          );
        } else io.stdout(planText(plan, estimate));
      },
    );

  const launch = sweep
    .command("launch")
    .summary("write the sweep directory and run its shards: on the queue with --redis, else here")
    .description(
      "Plans FILE, writes the sweep directory under --out (sweep.json and the runs' directories: " +
        "the truth) and runs every shard not yet on disk. Without --redis (and no REDIS_URL) the " +
        "shards run in this process, one after the other (the embedded default). With --redis they " +
        "go on the job queue for `deepconf worker` processes; --follow then collects the results " +
        "into the run directories until the sweep ends. Exit 0 when every shard is done, 1 when " +
        "any failed (or was interrupted). Launching the same file again resumes it.",
    )
    .argument("<file>", "sweep file (YAML or JSON)")
    .option(
      "--out <dir>",
      "parent of the sweep directory and its runs' directories",
      DEFAULT_SWEEP_OUT,
    )
    .option("--follow", "with --redis: collect results until the sweep ends")
    .option("--threads <n>", "CPU threads for in-process inference", positiveInteger)
    .option(
      "--max-rows <n>",
      "traces decoding at once across instances (continuous batching); default: one instance at a time",
      positiveInteger,
    )
    .option("--cache-dir <dir>", "downloads and the built-in model")
    .option("--offline", "never use the network")
    .option("--json", "print {sweep_id, sweep_dir, runs, shards} as JSON");
  addQueueOptions(launch).action(
    async (
      file: string,
      flags: CommonFlags & { threads?: number; maxRows?: number; follow?: boolean },
    ) => {
      const download = downloadProgress();
      const abort = new AbortController();
      const onInterrupt = () => {
        if (abort.signal.aborted) process.exit(130);
        abort.abort();
        io.stderr(
          "\ndeepconf: stopping after the instance in flight; `sweep launch` again resumes\n",
        );
      };
      process.on("SIGINT", onInterrupt);
      const progress = instanceProgress(io);
      try {
        const options = {
          out: flags.out,
          cacheDir: flags.cacheDir,
          offline: flags.offline,
          threads: flags.threads,
          maxRows: flags.maxRows,
          signal: abort.signal,
          onNote: (note: string) => io.stderr(`deepconf: ${note}\n`),
          onDownload: download.onProgress,
        };
        const manifest = await prepareSweep(file, options);
        download.stop();
        const total = manifest.runs.reduce((s, r) => s + r.instances, 0);
        const before = (await sweepStatus(manifest, flags.out)).instances.done;
        const target = queueTarget(flags, io);
        const where = target === null ? "in this process" : "on the queue";
        io.stderr(
          `deepconf: sweep ${manifest.sweep_id}: ${total} instances in ${manifest.runs.length} runs, ${where}${before > 0 ? ` (${before} already done)` : ""}\n`,
        );
        if (target !== null && flags.maxRows !== undefined) {
          io.stderr(
            "deepconf: --max-rows applies to shards run in this process; on the queue each worker's own --max-rows decides\n",
          );
        }
        if (target === null) {
          progress.start(total, before);
          await runSweepHere(manifest, { ...options, onPrediction: () => progress.tick() });
        } else {
          await withQueue(target, async (connection) => {
            const queued = await enqueuePending(connection, manifest, flags.out);
            io.stderr(
              `deepconf: ${queued.added.length} shards enqueued, ${queued.queued.length} already queued, ${queued.complete} complete on disk\n`,
            );
            if (!flags.follow) return;
            progress.start(total, before);
            await followSweep(connection, manifest, {
              out: flags.out,
              target,
              signal: abort.signal,
              onPrediction: () => progress.tick(),
              onProblem: (message) => io.stderr(`deepconf: ${message}\n`),
            });
          });
        }
        progress.stop();
        const report = launchReport(manifest, flags.out);
        if (target !== null && !flags.follow) {
          io.stdout(
            flags.json
              ? `${JSON.stringify(report)}\n`
              : `sweep ${report.sweep_id} launched: ${report.shards} shards on the queue; watch it with deepconf sweep watch ${report.sweep_id} --redis URL\n`,
          );
          return;
        }
        const status = await statusOf(manifest, flags, io);
        io.stdout(flags.json ? `${JSON.stringify(report)}\n` : statusText(status));
        if (status.state !== "done") throw new ExitStatus(1);
      } finally {
        progress.stop();
        download.stop();
        process.off("SIGINT", onInterrupt);
      }
    },
  );

  const status = sweep
    .command("status")
    .summary("where a sweep stands: per run and shard, tokens, early stops, accuracy, ETA, workers")
    .argument("[id]", "sweep id (default: the newest under --out)")
    .option("--out <dir>", "where the sweep was launched", DEFAULT_SWEEP_OUT)
    .option("--json", "print the status as JSON");
  addQueueOptions(status).action(async (id: string | undefined, flags: CommonFlags) => {
    const manifest = await loadSweep(flags.out, sweepIdOr(id, flags.out));
    const result = await statusOf(manifest, flags, io);
    io.stdout(flags.json ? `${JSON.stringify(result)}\n` : statusText(result));
  });

  const watch = sweep
    .command("watch")
    .summary("sweep status, live, collecting results while it runs (Ctrl-C stops watching)")
    .argument("[id]", "sweep id (default: the newest under --out)")
    .option("--out <dir>", "where the sweep was launched", DEFAULT_SWEEP_OUT)
    .option("--every <seconds>", "refresh interval", positiveInteger, 2);
  addQueueOptions(watch).action(
    async (id: string | undefined, flags: CommonFlags & { every: number }) => {
      const manifest = await loadSweep(flags.out, sweepIdOr(id, flags.out));
      const target = queueTarget(flags, io);
      const abort = new AbortController();
      const onInterrupt = () => abort.abort();
      process.on("SIGINT", onInterrupt);
      const draw = async () => {
        const text = statusText(await statusOf(manifest, flags, io));
        // Redraw in place on a terminal; a log gets one block per refresh.
        io.stdout(process.stdout.isTTY ? `\x1b[2J\x1b[H${text}` : text);
      };
      const timer = setInterval(() => void draw().catch(() => undefined), flags.every * 1000);
      try {
        await draw();
        if (target === null) {
          while (!abort.signal.aborted && (await sweepStatus(manifest, flags.out)).state !== "done")
            await new Promise((resolve) => setTimeout(resolve, flags.every * 1000));
        } else {
          await withQueue(target, (connection) =>
            followSweep(connection, manifest, {
              out: flags.out,
              target,
              signal: abort.signal,
              onProblem: (message) => io.stderr(`deepconf: ${message}\n`),
            }),
          );
        }
        await draw();
      } finally {
        clearInterval(timer);
        process.off("SIGINT", onInterrupt);
      }
    },
  );

  const resume = sweep
    .command("resume")
    .summary("rebuild the queue from the sweep directory: enqueue only what the disk lacks")
    .argument("<id>", "sweep id")
    .option("--out <dir>", "where the sweep was launched", DEFAULT_SWEEP_OUT)
    .option("--json", "print what was enqueued as JSON");
  addQueueOptions(resume).action(async (id: string, flags: CommonFlags) => {
    const manifest = await loadSweep(flags.out, id);
    const target = requireQueue(flags, io, "sweep resume");
    const report = await withQueue(target, (c) => enqueuePending(c, manifest, flags.out));
    io.stdout(
      flags.json
        ? `${JSON.stringify(report)}\n`
        : `sweep ${id}: ${report.added.length} jobs enqueued, ${report.queued.length} already queued, ${report.complete} shards complete on disk\n`,
    );
  });

  const cancel = sweep
    .command("cancel")
    .summary("remove a sweep's waiting shards; running ones stop after their instance in flight")
    .argument("<id>", "sweep id")
    .option("--out <dir>", "where the sweep was launched", DEFAULT_SWEEP_OUT);
  addQueueOptions(cancel).action(async (id: string, flags: CommonFlags) => {
    const manifest = await loadSweep(flags.out, id);
    const target = requireQueue(flags, io, "sweep cancel");
    const { removed, running } = await withQueue(target, (c) => cancelSweep(c, manifest));
    io.stdout(
      `sweep ${id}: ${removed} waiting shards removed; ${running} running stop after their instance in flight (results so far are kept; sweep resume continues it)\n`,
    );
  });

  const retry = sweep
    .command("retry")
    .summary("put a sweep's failed shards back on the queue")
    .argument("<id>", "sweep id")
    .option("--out <dir>", "where the sweep was launched", DEFAULT_SWEEP_OUT);
  addQueueOptions(retry).action(async (id: string, flags: CommonFlags) => {
    const manifest = await loadSweep(flags.out, id);
    const target = requireQueue(flags, io, "sweep retry");
    const { retried } = await withQueue(target, (c) => retrySweep(c, manifest));
    io.stdout(`sweep ${id}: ${retried.length} failed shards back on the queue\n`);
  });

  sweep
    .command("list")
    .summary("the sweeps under --out")
    .option("--out <dir>", "where sweeps were launched", DEFAULT_SWEEP_OUT)
    .option("--json", "print JSON")
    .action(async (flags: CommonFlags) => {
      const rows = [];
      for (const id of listSweeps(flags.out)) {
        const status = await sweepStatus(await loadSweep(flags.out, id), flags.out);
        rows.push({ sweep_id: id, state: status.state, instances: status.instances });
      }
      if (flags.json) io.stdout(`${JSON.stringify(rows)}\n`);
      else if (rows.length === 0) io.stdout(`no sweeps in ${flags.out}\n`);
      else
        io.stdout(
          rows
            .map(
              (r) =>
                `${r.sweep_id}  ${r.state}  ${r.instances.done}/${r.instances.total} instances`,
            )
            .join("\n") + "\n",
        );
    });
}
