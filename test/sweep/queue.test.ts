/**
 * Sweeps on the job queue, through the command line, on real Redis (this file's own key prefix)
 * with in-process inference workers and the tiny model:
 * - `sweep launch --redis --follow --json` prints the documented shape, exits 0, and writes the
 *   same predictions as the in-process launch of the same file; `sweep status --redis --json`
 *   says done, with shard counts, runs and the live workers.
 * - `sweep cancel` removes the waiting shards and stops the running one after its instance in
 *   flight; status says cancelled; `sweep resume` finishes it, nothing lost or written twice.
 * - A shard whose model folder is gone fails: launch --follow exits 1, status says failed with
 *   the worker's message; once the folder is back, `sweep retry` finishes the sweep.
 * Every check counts raw lines on disk (the predictions reader would hide a duplicate).
 */
import { cpSync, renameSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { QueueConnection, shardStates } from "../../src/queue/producer.js";
import { parseProgress } from "../../src/queue/types.js";
import type { InferenceWorker } from "../../src/queue/worker.js";
import { loadSweep } from "../../src/sweep/directory.js";
import { deepconf } from "../support/cli.js";
import {
  deletePrefix,
  fastWorker,
  SHARED_REDIS,
  testPrefix,
  until,
  warmTinyModel,
} from "../support/queue.js";
import {
  expectExactlyOnce,
  launchFollow,
  linesOnDisk,
  referenceLaunch,
  sweepUnder,
  writeSweepFile,
} from "../support/sweeps.js";
import { testTempDir, tinyModelDir } from "../support/tiny-model.js";

const prefix = testPrefix();
const cacheDir = testTempDir("cache-");
const queueFlags = ["--redis", SHARED_REDIS, "--prefix", prefix];

/** `sweep launch FILE --follow` on the test's queue (with --json unless told otherwise). */
const launchHere = (path: string, out: string, json = true) =>
  launchFollow(path, { out, cacheDir, prefix, json });
let connection: QueueConnection;

beforeAll(async () => {
  connection = await QueueConnection.open(SHARED_REDIS, { prefix });
  await warmTinyModel(cacheDir);
}, 60_000);
afterAll(async () => {
  await connection?.close();
  await deletePrefix(prefix);
});

const startWorker = () => fastWorker(prefix, cacheDir);

describe("sweep launch --redis", () => {
  test("--follow --json with two workers: the documented shape, exit 0, predictions equal the in-process launch; status says done", async () => {
    const path = writeSweepFile({
      name: "queued",
      limit: 5,
      methods: ["deepconf-low", "baseline"],
      shardSize: 2,
    });
    const out = testTempDir("sweeps-");
    const workers = await Promise.all([startWorker(), startWorker()]);
    try {
      const launch = await launchHere(path, out);
      expect(launch.code, launch.stderr).toBe(0);
      const report = JSON.parse(launch.stdout);
      expect(Object.keys(report)).toEqual(["sweep_id", "sweep_dir", "runs", "shards"]);
      expect(report.shards).toBe(6);
      expect(report.runs).toHaveLength(2);
      for (const run of report.runs) {
        expect(Object.keys(run)).toEqual(["run_id", "run_dir", "instances"]);
        expect(run.instances).toBe(5);
      }

      const status = await deepconf(
        "sweep",
        "status",
        report.sweep_id,
        "--out",
        out,
        ...queueFlags,
        "--json",
      );
      expect(status.code, status.stderr).toBe(0);
      const body = JSON.parse(status.stdout);
      expect(body).toMatchObject({
        sweep_id: report.sweep_id,
        state: "done",
        instances: { done: 10, total: 10 },
        shards: { waiting: 0, active: 0, done: 6, failed: 0, cancelled: 0 },
      });
      expect(body.runs.map((r: { run_id: string }) => r.run_id).sort()).toEqual(
        report.runs.map((r: { run_id: string }) => r.run_id).sort(),
      );
      expect(body.runs[0].shards).toEqual({
        waiting: 0,
        active: 0,
        done: 3,
        failed: 0,
        cancelled: 0,
      });
      expect(body.workers.map((w: { id: string }) => w.id).sort()).toEqual(
        workers.map((w) => w.id).sort(),
      );
      expect(body.workers[0]).toMatchObject({ current_job: null });
      // Both workers took shards.
      const { shards } = await shardStates(connection, report.sweep_id);
      expect(shards.every((s) => s.state === "completed")).toBe(true);
      expect(new Set(shards.map((s) => s.worker)).size).toBe(2);

      const sweep = await loadSweep(out, report.sweep_id);
      await expectExactlyOnce(sweep, out, await referenceLaunch(path, cacheDir));
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  }, 90_000);

  test("resume while a shard runs adds nothing; cancel stops the running shard after its instance in flight and drops the waiting ones; resume finishes it", async () => {
    const path = writeSweepFile({
      name: "cancelled",
      limit: 16,
      methods: ["deepconf-low", "baseline"],
      shardSize: 8,
      maxNewTokens: 16,
    });
    const out = testTempDir("sweeps-");
    const worker = await startWorker();
    try {
      const launching = launchHere(path, out);
      const sweep = await sweepUnder(out);
      const id = sweep.sweep_id;
      await until(async () => (await linesOnDisk(sweep, out)) >= 1, {
        what: "an instance on disk",
        everyMs: 20,
        timeoutMs: 60_000,
      });
      const running = (await shardStates(connection, id)).shards.find((s) => s.state === "active");
      expect(running).toBeDefined();
      const jobId = running?.jobId as string;

      // The running shard has results on disk, yet it is queued: no second job for the rest.
      const early = await deepconf("sweep", "resume", id, "--out", out, ...queueFlags, "--json");
      expect(JSON.parse(early.stdout)).toMatchObject({ added: [], complete: 0 });
      expect(JSON.parse(early.stdout).queued).toHaveLength(4);

      const cancel = await deepconf("sweep", "cancel", id, "--out", out, ...queueFlags);
      expect(cancel.code, cancel.stderr).toBe(0);
      // A shard the worker takes between the cancel key and the removal fails before it starts
      // (status counts it cancelled too): at least 2 of the 3 waiting ones are removed.
      const removed = /(\d+) waiting shards removed; \d+ running stop/.exec(cancel.stdout)?.[1];
      expect(Number(removed)).toBeGreaterThanOrEqual(2);
      expect((await shardStates(connection, id)).shards).toHaveLength(4);

      // The launch follows until nothing of the sweep waits or runs, and it is not done: exit 1.
      const launch = await launching;
      expect(launch.code, launch.stderr).toBe(1);
      const job = await connection.queue.getJob(jobId);
      expect(await job?.getState()).toBe("failed");
      const delivered = parseProgress(job?.progress)?.done ?? -1;
      expect(job?.failedReason).toBe(`sweep cancelled: stopped after ${delivered} of 8 instances`);
      // Stopped after the instance in flight: short of the shard, and all of it on disk.
      expect(delivered).toBeGreaterThanOrEqual(1);
      expect(delivered).toBeLessThan(8);
      console.info(`cancelled: the running shard stopped after ${delivered} of 8 instances`);
      expect(await linesOnDisk(sweep, out)).toBe(delivered);

      const status = await deepconf("sweep", "status", id, "--out", out, ...queueFlags, "--json");
      const body = JSON.parse(status.stdout);
      expect(body).toMatchObject({
        state: "cancelled",
        instances: { done: delivered, total: 32 },
        shards: { waiting: 0, active: 0, done: 0, failed: 0, cancelled: 4 },
      });

      const resume = await deepconf("sweep", "resume", id, "--out", out, ...queueFlags, "--json");
      expect(resume.code, resume.stderr).toBe(0);
      // The stopped shard comes back as a job for its missing instances, the others whole.
      const resumed = JSON.parse(resume.stdout);
      expect(resumed).toMatchObject({ queued: [], complete: 0 });
      expect(resumed.added).toHaveLength(4);
      expect(resumed.added.filter((j: string) => j.includes("-part-"))).toHaveLength(1);
      // The cancelled job made way for its part: nothing failed or cancelled is left to retry.
      const states = (await shardStates(connection, id)).shards.map((s) => s.state);
      expect(states.filter((s) => s === "waiting" || s === "active")).toHaveLength(4);

      const follow = await launchHere(path, out);
      expect(follow.code, follow.stderr).toBe(0);
      const after = JSON.parse(
        (await deepconf("sweep", "status", id, "--out", out, ...queueFlags, "--json")).stdout,
      );
      expect(after).toMatchObject({
        state: "done",
        shards: { done: 4, cancelled: 0, failed: 0 },
      });
      await expectExactlyOnce(sweep, out, await referenceLaunch(path, cacheDir));
    } finally {
      await worker.stop();
    }
  }, 90_000);

  test("a shard whose model folder is missing fails: exit 1, status failed with the worker's message; retry finishes it", async () => {
    const models = testTempDir("models-");
    const copy = join(models, "qwen3-copy");
    cpSync(tinyModelDir(), copy, { recursive: true });
    const path = writeSweepFile({
      name: "failing",
      models: [tinyModelDir(), copy],
      limit: 3,
      methods: ["baseline"],
      shardSize: 3,
    });
    const out = testTempDir("sweeps-");
    const referenceOut = await referenceLaunch(path, cacheDir);
    let worker: InferenceWorker | null = null;
    try {
      const launching = launchHere(path, out);
      const sweep = await sweepUnder(out);
      const id = sweep.sweep_id;
      await until(async () => (await shardStates(connection, id)).counts.waiting === 2, {
        what: "both shards queued",
      });
      // The folder goes away after planning, before any worker looks for it.
      renameSync(copy, `${copy}.away`);
      worker = await startWorker();
      const launch = await launching;
      expect(launch.code, launch.stderr).toBe(1);

      const status = await deepconf("sweep", "status", id, "--out", out, ...queueFlags, "--json");
      const body = JSON.parse(status.stdout);
      expect(body).toMatchObject({
        state: "failed",
        instances: { done: 3, total: 6 },
        shards: { waiting: 0, active: 0, done: 1, failed: 1 },
      });
      const failedRun = body.runs.find((r: { model: string }) => r.model === copy);
      expect(failedRun.errors).toHaveLength(1);
      expect(failedRun.errors[0]).toMatch(/model folder .*qwen3-copy does not exist/);

      // Fixed: the folder is there again (a copy of the tiny model).
      cpSync(tinyModelDir(), copy, { recursive: true });
      const retry = await deepconf("sweep", "retry", id, "--out", out, ...queueFlags);
      expect(retry.code, retry.stderr).toBe(0);
      expect(retry.stdout).toMatch(/1 failed shards back on the queue/);
      const follow = await launchHere(path, out);
      expect(follow.code, follow.stderr).toBe(0);
      const after = JSON.parse(
        (await deepconf("sweep", "status", id, "--out", out, ...queueFlags, "--json")).stdout,
      );
      expect(after).toMatchObject({ state: "done", shards: { done: 2, failed: 0 } });
      expect(after.runs.every((r: { errors: string[] }) => r.errors.length === 0)).toBe(true);
      await expectExactlyOnce(sweep, out, referenceOut);
    } finally {
      await worker?.stop();
    }
  }, 90_000);
});
