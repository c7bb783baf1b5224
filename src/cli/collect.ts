/** `deepconf collect`: commander wiring and signals; the work is startCollector's. */
import type { Command } from "commander";
import { startCollector } from "../queue/collector.js";
import { DEFAULT_PREFIX } from "../queue/names.js";
import type { CliIO } from "./io.js";
import { positiveInteger } from "./parse.js";
import { onStopSignals, redisUrlFrom, seconds } from "./worker.js";

interface CollectFlags {
  redis?: string;
  sweep: string;
  out: string;
  prefix: string;
  consumer?: string;
  claimIdle: number;
  batch: number;
  json?: boolean;
}

export function registerCollect(program: Command, io: CliIO): void {
  program
    .command("collect")
    .summary("write a sweep's streamed results into its run directories (until Ctrl-C)")
    .description(
      "Reads the sweep's results stream (a consumer group) and appends each prediction to " +
        "OUT/<run_id>/predictions.jsonl, flushed to disk before the entry is acknowledged: an " +
        "instance delivered twice is written once, and a collector stopped or killed at any point " +
        "loses nothing when started again. The run directories (with their manifest.json) must " +
        "exist: `sweep launch` creates them. Runs until SIGINT or SIGTERM.",
    )
    .option("--redis <url>", "redis://[:password@]host:port[/db] (default: $REDIS_URL)")
    .requiredOption("--sweep <id>", "sweep id")
    .requiredOption("--out <dir>", "parent folder of the sweep's run directories")
    .option("--prefix <prefix>", "key prefix in Redis", DEFAULT_PREFIX)
    .option("--consumer <name>", "consumer name in the group (default: this host's name)")
    .option(
      "--claim-idle <seconds>",
      "take over entries another collector left this long",
      seconds,
      60_000,
    )
    .option("--batch <n>", "entries per read", positiveInteger, 200)
    .option("--json", "print the final counts as JSON")
    .action(async (flags: CollectFlags) => {
      const collector = await startCollector({
        redis: redisUrlFrom(flags.redis),
        prefix: flags.prefix,
        sweepId: flags.sweep,
        out: flags.out,
        consumer: flags.consumer,
        claimIdleMs: flags.claimIdle,
        batch: flags.batch,
        onProblem: (message) => io.stderr(`deepconf collect: ${message}\n`),
      });
      io.stderr(
        `deepconf collect: collecting sweep ${flags.sweep} from ${collector.target.redacted} into ${flags.out}\n`,
      );
      let shown = 0;
      const ticker = setInterval(() => {
        if (collector.stats.written === shown) return;
        shown = collector.stats.written;
        io.stderr(`deepconf collect: ${shown} predictions written\n`);
      }, 5000);
      const release = onStopSignals(io, "stopping", () => void collector.stop());
      try {
        const stats = await collector.done;
        io.stdout(
          flags.json
            ? `${JSON.stringify(stats)}\n`
            : `written ${stats.written}, duplicates ${stats.duplicates}, dropped ${stats.malformed}, waiting ${stats.pending}\n`,
        );
      } finally {
        clearInterval(ticker);
        release();
      }
    });
}
