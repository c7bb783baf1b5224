/**
 * Redis killed (kill -9) and started again, empty, in the middle of a sweep: a private
 * redis-server without persistence on a free port, two worker processes, `sweep launch --follow`
 * collecting in this process. The workers reconnect by themselves, the following launch waits
 * for Redis and for the queue to be rebuilt, `sweep resume` rebuilds it from the sweep
 * directory, and the sweep ends with every instance on disk exactly once (raw lines), equal to
 * the in-process launch of the same file.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { deepconf } from "../support/cli.js";
import {
  type Child,
  type PrivateRedis,
  spawnTs,
  startPrivateRedis,
  until,
  warmTinyModel,
} from "../support/queue.js";
import {
  expectExactlyOnce,
  linesOnDisk,
  referenceLaunch,
  sweepUnder,
  writeSweepFile,
} from "../support/sweeps.js";
import { testTempDir } from "../support/tiny-model.js";

const cacheDir = testTempDir("cache-");
let redis: PrivateRedis;

beforeAll(async () => {
  redis = await startPrivateRedis();
  await warmTinyModel(cacheDir);
}, 60_000);
afterAll(async () => {
  await redis?.stop();
});

function spawnWorker(url: string): Child {
  return spawnTs("workers/inference-worker.ts", [
    "--redis",
    url,
    "--cache-dir",
    cacheDir,
    "--lock-duration",
    "2000",
    "--stalled-interval",
    "1000",
    "--heartbeat",
    "500",
  ]);
}

describe("Redis killed and restarted empty mid-sweep", () => {
  test("workers reconnect, the following launch waits, sweep resume rebuilds the queue: every instance exactly once", async () => {
    const path = writeSweepFile({
      name: "restart",
      limit: 8,
      methods: ["deepconf-low", "baseline"],
      shardSize: 2,
      maxNewTokens: 16,
    });
    const out = testTempDir("sweeps-");
    const flags = ["--out", out, "--redis", redis.url];
    const workers = [spawnWorker(redis.url), spawnWorker(redis.url)];
    try {
      await Promise.all(workers.map((w) => w.waitFor(/ ready: /, 60_000)));
      const launching = deepconf(
        "sweep",
        "launch",
        path,
        ...flags,
        "--cache-dir",
        cacheDir,
        "--follow",
        "--json",
      );
      const sweep = await sweepUnder(out);
      await until(async () => (await linesOnDisk(sweep, out)) >= 4, {
        what: "4 instances on disk",
        everyMs: 20,
        timeoutMs: 60_000,
      });
      await redis.stop();
      const before = await linesOnDisk(sweep, out);
      expect(before).toBeLessThan(16);
      // Down long enough for the following launch to notice.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      redis = await startPrivateRedis([], redis.port);
      const outputAt = workers.map((w) => w.output().length);

      // Both workers are still there and reconnect by themselves.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      for (const worker of workers) expect(worker.process.exitCode, worker.output()).toBeNull();
      const resume = await deepconf("sweep", "resume", sweep.sweep_id, ...flags, "--json");
      expect(resume.code, resume.stderr).toBe(0);
      const resumed = JSON.parse(resume.stdout);
      expect(resumed.added.length).toBeGreaterThan(0);
      expect(resumed.queued).toEqual([]);

      const launch = await launching;
      expect(launch.code, launch.stderr).toBe(0);
      expect(launch.stderr).toMatch(/Redis at redis:\/\/127\.0\.0\.1:\d+ cannot be reached/);
      expect(launch.stderr).toMatch(/is back/);
      // The reconnected workers ran the rebuilt queue.
      const after = workers.map((w, i) => w.output().slice(outputAt[i]));
      expect(after.some((text) => /job .*: started/.test(text))).toBe(true);
      for (const worker of workers) expect(worker.process.exitCode).toBeNull();

      const status = await deepconf("sweep", "status", sweep.sweep_id, ...flags, "--json");
      expect(JSON.parse(status.stdout)).toMatchObject({
        state: "done",
        instances: { done: 16, total: 16 },
      });
      console.info(
        `Redis killed with ${before} of 16 instances on disk; resume re-enqueued ${resumed.added.length} jobs (${resumed.complete} shards complete on disk)`,
      );
      await expectExactlyOnce(sweep, out, await referenceLaunch(path, cacheDir));
    } finally {
      for (const worker of workers) worker.process.kill("SIGTERM");
      await Promise.all(workers.map((w) => w.exited));
    }
  }, 120_000);
});
