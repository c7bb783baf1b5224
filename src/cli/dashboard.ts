/** `deepconf dashboard`: commander wiring and Ctrl-C; the work is src/dashboard's. */
import type { Command } from "commander";
import { startDashboard } from "../dashboard/server.js";
import { DEFAULT_PREFIX } from "../queue/names.js";
import { DEFAULT_SWEEP_OUT } from "../sweep/directory.js";
import type { CliIO } from "./io.js";
import { nonNegativeInteger, numberIn } from "./parse.js";

interface DashboardFlags {
  port: number;
  host: string;
  redis?: string;
  out: string;
  prefix: string;
  interval: number;
}

export function registerDashboard(program: Command, io: CliIO): Command {
  return program
    .command("dashboard")
    .summary("a live web page: sweeps, workers, Lambda nodes, results and the queue")
    .description(
      "Serves one local web app: each sweep's progress (per run, shards by state, tokens/s over " +
        "time, ETA, failures, cancel and retry), the workers and Lambda nodes (status, cost, " +
        "terminate), results as they arrive (early-stop rate, token savings, confidence buckets, " +
        "accuracy / precision / recall with Wilson intervals, figures and reports) and the queue " +
        "through bull-board under /queues, updated by server-sent events. It binds 127.0.0.1; " +
        "any other --host needs the token printed at the start on every request.",
    )
    .option("--port <port>", "port to listen on (0: any free one)", nonNegativeInteger, 8080)
    .option("--host <address>", "address to bind (not loopback: a token is required)", "127.0.0.1")
    .option("--redis <url>", "the job queue's Redis (default: REDIS_URL; none: the disk only)")
    .option("--prefix <prefix>", "key prefix in Redis", DEFAULT_PREFIX)
    .option("--out <dir>", "the sweeps' folder, as given to sweep launch", DEFAULT_SWEEP_OUT)
    .option("--interval <ms>", "how often the page is updated", numberIn(100, 3_600_000), 1000)
    .action(async (flags: DashboardFlags) => {
      const redis = flags.redis ?? (process.env.REDIS_URL?.trim() || undefined);
      const dashboard = await startDashboard({
        out: flags.out,
        redis,
        prefix: flags.prefix,
        host: flags.host,
        port: flags.port,
        intervalMs: flags.interval,
        log: (line) => io.stderr(`deepconf dashboard: ${line}\n`),
      });
      io.stdout(`dashboard: ${dashboard.openUrl}\n`);
      if (!dashboard.loopback) {
        io.stdout(
          `not on loopback: every request needs the token above (shown once; the page keeps it in a cookie)\n`,
        );
      }
      if (redis === undefined) io.stdout("no --redis (or REDIS_URL): showing the disk only\n");
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          io.stderr(`deepconf dashboard: ${signal}: closing\n`);
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          resolve();
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
      });
      await dashboard.close();
    });
}
