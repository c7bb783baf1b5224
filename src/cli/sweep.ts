/** `deepconf sweep ...`: commander wiring, progress and Ctrl-C; the work is src/sweep's. */
import cliProgress from "cli-progress";
import type { Command } from "commander";
import { InputError } from "../errors.js";
import { DEFAULT_SWEEP_OUT, listSweeps, loadSweep } from "../sweep/directory.js";
import { launchReport, planSweepFile, prepareSweep, runSweepHere } from "../sweep/launch.js";
import { estimatePlan } from "../sweep/plan.js";
import { planText, statusText } from "../sweep/render.js";
import { sweepStatus } from "../sweep/status.js";
import type { CliIO } from "./io.js";
import { numberIn, positiveInteger } from "./parse.js";
import { downloadProgress } from "./progress.js";

interface CommonFlags {
  out: string;
  cacheDir?: string;
  offline?: boolean;
  json?: boolean;
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

  sweep
    .command("launch")
    .summary("write the sweep directory and run its shards (in this process without --redis)")
    .argument("<file>", "sweep file (YAML or JSON)")
    .option(
      "--out <dir>",
      "parent of the sweep directory and its runs' directories",
      DEFAULT_SWEEP_OUT,
    )
    .option("--threads <n>", "CPU threads for in-process inference", positiveInteger)
    .option("--cache-dir <dir>", "downloads and the built-in model")
    .option("--offline", "never use the network")
    .option("--json", "print {sweep_id, sweep_dir, runs, shards} as JSON")
    .action(async (file: string, flags: CommonFlags & { threads?: number }) => {
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
      let bar: cliProgress.SingleBar | null = null;
      try {
        const options = {
          out: flags.out,
          cacheDir: flags.cacheDir,
          offline: flags.offline,
          threads: flags.threads,
          signal: abort.signal,
          onNote: (note: string) => io.stderr(`deepconf: ${note}\n`),
          onDownload: download.onProgress,
        };
        const manifest = await prepareSweep(file, options);
        download.stop();
        const total = manifest.runs.reduce((s, r) => s + r.instances, 0);
        const before = (await sweepStatus(manifest, flags.out)).instances.done;
        let done = before;
        if (process.stderr.isTTY) {
          bar = new cliProgress.SingleBar(
            {
              stream: process.stderr,
              hideCursor: true,
              format: "{bar} {value}/{total} instances | ETA {eta_formatted}",
            },
            cliProgress.Presets.shades_classic,
          );
          bar.start(total, before);
        }
        io.stderr(
          `deepconf: sweep ${manifest.sweep_id}: ${total} instances in ${manifest.runs.length} runs, in this process${before > 0 ? ` (resuming: ${before} done)` : ""}\n`,
        );
        await runSweepHere(manifest, {
          ...options,
          onPrediction: () => {
            done++;
            bar?.update(done);
            if (!bar && (done === total || done % Math.max(1, Math.round(total / 10)) === 0))
              io.stderr(`deepconf: ${done}/${total} instances\n`);
          },
        });
        bar?.stop();
        const status = await sweepStatus(manifest, flags.out);
        if (flags.json) io.stdout(`${JSON.stringify(launchReport(manifest, flags.out))}\n`);
        else io.stdout(statusText(status));
        if (status.state !== "done") process.exitCode = 1;
      } finally {
        bar?.stop();
        download.stop();
        process.off("SIGINT", onInterrupt);
      }
    });

  sweep
    .command("status")
    .summary("where a sweep stands: per run and shard, from its directory")
    .argument("[id]", "sweep id (default: the newest under --out)")
    .option("--out <dir>", "where the sweep was launched", DEFAULT_SWEEP_OUT)
    .option("--json", "print the status as JSON")
    .action(async (id: string | undefined, flags: CommonFlags) => {
      const manifest = await loadSweep(flags.out, sweepIdOr(id, flags.out));
      const status = await sweepStatus(manifest, flags.out);
      io.stdout(flags.json ? `${JSON.stringify(status)}\n` : statusText(status));
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
