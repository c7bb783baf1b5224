/**
 * Chaos on the queue: a sweep of the bundled sample benchmark (48 instances) x methods x seeds
 * on the built-in test model runs on 3 worker processes while a random worker is SIGKILLed 20
 * times (started again each time), with the collector in this process; the same sweep also runs
 * in one process as the reference. Prints JSON: instances, kills, wall time, jobs taken over
 * and the time from a kill to its job running elsewhere, results delivered on the stream against
 * lines written, and whether every instance is on disk exactly once with predictions identical
 * to the reference (without elapsed_ms). Exit 1 when either is not so.
 *
 *   npm run chaos:sweep -- [--redis URL] [--kills 20] [--workers 3] [--methods a,b,c]
 *                          [--seeds 0,1] [--max-new-tokens 16] [--shard-size 8]
 *                          [--lock-duration 2000] [--stalled-interval 1000] [--keep]
 *
 * Uses its own key prefix (chaos-<random>) on the Redis (default redis://127.0.0.1:6379) and
 * deletes its keys at the end; the sweep directories go to a temporary folder (kept with --keep).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { cacheDirFromEnv } from "../src/hf/settings.js";
import { deleteKeysUnder } from "../src/queue/redis.js";
import { runChaos } from "./chaos-harness.js";

const { values } = parseArgs({
  options: {
    redis: { type: "string", default: "redis://127.0.0.1:6379" },
    kills: { type: "string", default: "20" },
    workers: { type: "string", default: "3" },
    methods: { type: "string", default: "deepconf-low,deepconf-high,baseline" },
    seeds: { type: "string", default: "0,1" },
    "max-new-tokens": { type: "string", default: "16" },
    "shard-size": { type: "string", default: "8" },
    "lock-duration": { type: "string", default: "2000" },
    "stalled-interval": { type: "string", default: "1000" },
    "kill-every": { type: "string", default: "1000-2500" },
    seed: { type: "string", default: "1" },
    keep: { type: "boolean", default: false },
  },
});
const log = (line: string) => process.stderr.write(`[chaos] ${line}\n`);
const root = mkdtempSync(join(tmpdir(), "deepconf-chaos-"));
const prefix = `chaos-${randomBytes(4).toString("hex")}`;
const sweepFile = join(root, "chaos.yaml");
writeFileSync(
  sweepFile,
  [
    "name: chaos",
    "models: [builtin]",
    "benchmarks: [sample]",
    `methods: [${values.methods}]`,
    `seeds: [${values.seeds}]`,
    `params: {maxNewTokens: ${values["max-new-tokens"]}, budget: 4, warmup: 2, window: 3, tail: 3, parallel: 2}`,
    `shardSize: ${values["shard-size"]}`,
    "",
  ].join("\n"),
);
const [min, max] = (values["kill-every"] as string).split("-").map(Number);

async function deleteKeys(): Promise<void> {
  const redis = new Redis(values.redis as string, { maxRetriesPerRequest: 1 });
  try {
    await deleteKeysUnder(redis, prefix);
  } finally {
    redis.disconnect();
  }
}

let code = 1;
try {
  const report = await runChaos({
    sweepFile,
    redis: values.redis as string,
    prefix,
    out: join(root, "queued"),
    referenceOut: join(root, "reference"),
    cacheDir: cacheDirFromEnv(),
    workers: Number(values.workers),
    kills: Number(values.kills),
    killEveryMs: [min ?? 1000, max ?? min ?? 2500],
    lockDurationMs: Number(values["lock-duration"]),
    stalledIntervalMs: Number(values["stalled-interval"]),
    seed: Number(values.seed),
    log,
  });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  const enough = report.kills >= Number(values.kills);
  if (!enough) log(`only ${report.kills} kills before the sweep ended: make it bigger`);
  code = report.exactly_once && report.identical && report.state === "done" && enough ? 0 : 1;
} finally {
  await deleteKeys().catch((error) => log(`could not delete ${prefix}:*: ${error.message}`));
  if (values.keep) log(`sweep directories kept in ${root}`);
  else rmSync(root, { recursive: true, force: true });
}
process.exit(code);
