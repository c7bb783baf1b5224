/**
 * Workers that die or are stopped mid-job, as real processes on real Redis (this file's own key
 * prefix), with short locks (1 s) and stalled checks (0.5 s):
 * - SIGKILL: another worker's stalled check re-queues the job, the new worker skips what the
 *   dead one delivered, and every instance is on disk exactly once, equal to an in-process run.
 * - SIGTERM: the instance in flight is finished, the rest of the job goes back to the queue,
 *   the process exits 0; the next worker runs only what was not delivered.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startCollector } from "../../src/queue/collector.js";
import { enqueueShards, QueueConnection } from "../../src/queue/producer.js";
import { parseProgress, type ShardResult } from "../../src/queue/types.js";
import { InferenceWorker } from "../../src/queue/worker.js";
import { CONFIDENCES, type ConfidencesFile, readConfidences } from "../../src/runs/confidences.js";
import { PREDICTIONS } from "../../src/runs/directory.js";
import type { PredictionRecord } from "../../src/safety/types.js";
import {
  createRunDir,
  deletePrefix,
  localRunDir,
  predictionLines,
  SHARED_REDIS,
  spawnTs,
  testPrefix,
  tinySpec,
  until,
} from "../support/queue.js";
import { testTempDir } from "../support/tiny-model.js";

const prefix = testPrefix();
const cacheDir = testTempDir("cache-");
const LOCK = { lockDurationMs: 1000, stalledIntervalMs: 500 };
// Enough instances, long enough, that a job is caught in the middle.
const spec = tinySpec(
  {
    params: { ...tinySpec().params, maxNewTokens: 16 },
  },
  16,
);
let connection: QueueConnection;
const reference: PredictionRecord[] = [];
let referenceSidecar: ConfidencesFile;

beforeAll(async () => {
  connection = await QueueConnection.open(SHARED_REDIS, { prefix });
  // The in-process run to compare with (it also derives the model's graph into the cache once).
  const local = await localRunDir(spec, testTempDir("local-"), cacheDir);
  reference.push(...(await predictionLines(join(local, PREDICTIONS))));
  referenceSidecar = await readConfidences(join(local, CONFIDENCES));
}, 120_000);
afterAll(async () => {
  await connection?.close();
  await deletePrefix(prefix);
});

const comparable = ({ elapsed_ms: _, ...rest }: PredictionRecord) => rest;
const byId = (a: { instance_id: string }, b: { instance_id: string }) =>
  a.instance_id < b.instance_id ? -1 : 1;

function spawnWorker() {
  return spawnTs("workers/inference-worker.ts", [
    "--redis",
    SHARED_REDIS,
    "--prefix",
    prefix,
    "--cache-dir",
    cacheDir,
    "--lock-duration",
    String(LOCK.lockDurationMs),
    "--stalled-interval",
    String(LOCK.stalledIntervalMs),
  ]);
}

async function progressOf(jobId: string) {
  return parseProgress((await connection.queue.getJob(jobId))?.progress);
}

/** Starts a sweep of one shard (the whole run) with its run directory and a collector. */
async function launch(sweepId: string) {
  const out = testTempDir("runs-");
  const runDir = await createRunDir(out, spec);
  const collector = await startCollector({
    redis: SHARED_REDIS,
    prefix,
    sweepId,
    out,
    blockMs: 200,
  });
  const { jobIds } = await enqueueShards(connection, { sweepId, shards: [{ spec }] });
  return { runDir, collector, jobId: jobIds[0] as string };
}

async function expectExactlyOnce(runDir: string) {
  const lines = await predictionLines(join(runDir, PREDICTIONS));
  expect(lines).toHaveLength(16);
  expect(lines.map(comparable).sort(byId)).toEqual(reference.map(comparable).sort(byId));
  // An instance sent twice has its confidences written once too, equal to the local run's.
  const sidecar = await readConfidences(join(runDir, CONFIDENCES));
  expect(sidecar).toMatchObject({ records: 16, duplicates: 0, torn: false });
  expect(sidecar.instances).toEqual(referenceSidecar.instances);
}

describe("worker recovery", () => {
  test("SIGKILL mid-job: another worker recovers the job; every instance written exactly once", async () => {
    const { runDir, collector, jobId } = await launch("killed");
    const doomed = spawnWorker();
    // A second worker is up while the first runs the job (it cannot take the job: it is locked).
    await until(async () => (await connection.queue.getJob(jobId))?.processedBy !== undefined, {
      what: "the job taken",
      timeoutMs: 60_000,
    });
    const rescuer = await InferenceWorker.start({ redis: SHARED_REDIS, prefix, cacheDir, ...LOCK });
    try {
      await until(
        async () => {
          const p = await progressOf(jobId);
          return p !== null && p.done >= 3;
        },
        { what: "3 instances delivered", everyMs: 20, timeoutMs: 60_000 },
      );
      doomed.process.kill("SIGKILL");
      const killedAt = Date.now();
      expect((await doomed.exited).signal).toBe("SIGKILL");
      const delivered = (await progressOf(jobId))?.done ?? 0;
      expect(delivered).toBeGreaterThanOrEqual(3);
      expect(delivered).toBeLessThan(16);

      await until(async () => (await connection.queue.getJob(jobId))?.processedBy === rescuer.id, {
        what: "the job taken over",
        everyMs: 50,
      });
      const recoveryMs = Date.now() - killedAt;
      await until(async () => (await connection.queue.getJob(jobId))?.finishedOn !== undefined, {
        what: "the job finished",
        timeoutMs: 60_000,
      });
      const job = await connection.queue.getJob(jobId);
      expect(await job?.getState()).toBe("completed");
      // The rescuer ran only what the killed worker had not delivered.
      expect(job?.returnvalue as ShardResult).toMatchObject({
        done: 16,
        total: 16,
        ran: 16 - delivered,
      });
      const stats = await collector.stop({ drain: true });
      // Lock 1 s + up to two stalled checks of 0.5 s, and a loaded machine's slack.
      expect(recoveryMs).toBeLessThan(6000);
      expect(stats.written).toBe(16);
      console.info(
        `SIGKILL recovery: job taken over ${recoveryMs} ms after the kill (lock 1000 ms, stalled check 500 ms); ${delivered} instances delivered before, ${stats.duplicates} sent twice`,
      );
      await expectExactlyOnce(runDir);
    } finally {
      await rescuer.stop();
    }
  }, 120_000);

  test("SIGTERM: the instance in flight finishes, the rest goes back to the queue, exit 0", async () => {
    const { runDir, collector, jobId } = await launch("terminated");
    const stopped = spawnWorker();
    await until(
      async () => {
        const p = await progressOf(jobId);
        return p !== null && p.done >= 2;
      },
      { what: "2 instances delivered", everyMs: 20, timeoutMs: 60_000 },
    );
    stopped.process.kill("SIGTERM");
    const termAt = Date.now();
    expect(await stopped.exited).toEqual({ code: 0, signal: null });
    const exitMs = Date.now() - termAt;
    const handed = /handed back to the queue after (\d+) of 16 instances/.exec(stopped.output());
    expect(handed, stopped.output()).not.toBeNull();
    const delivered = Number(handed?.[1]);
    expect((await progressOf(jobId))?.done).toBe(delivered);
    expect(delivered).toBeLessThan(16);
    expect(await (await connection.queue.getJob(jobId))?.getState()).toBe("waiting");
    expect(exitMs).toBeLessThan(10_000);

    const next = await InferenceWorker.start({ redis: SHARED_REDIS, prefix, cacheDir, ...LOCK });
    try {
      await until(async () => (await connection.queue.getJob(jobId))?.finishedOn !== undefined, {
        what: "the job finished",
        timeoutMs: 60_000,
      });
    } finally {
      await next.stop();
    }
    const job = await connection.queue.getJob(jobId);
    expect(job?.returnvalue as ShardResult).toMatchObject({ done: 16, ran: 16 - delivered });
    const stats = await collector.stop({ drain: true });
    // Nothing was sent twice: the handed-back job knew exactly what had been delivered.
    expect(stats).toEqual({ written: 16, duplicates: 0, malformed: 0, pending: 0 });
    console.info(`SIGTERM: exited 0 ${exitMs} ms after the signal, ${delivered} of 16 delivered`);
    await expectExactlyOnce(runDir);
  }, 120_000);
});
