/**
 * A worker end to end on real Redis (this file's own key prefix) and the tiny model: shards go
 * through the queue, predictions come back on the results stream, the collector writes them
 * into the run directory, and they equal an in-process runJob of the same spec. A job whose
 * model folder does not exist fails with that message and the worker goes on.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startCollector } from "../../src/queue/collector.js";
import {
  enqueueShards,
  listWorkers,
  QueueConnection,
  shardStates,
} from "../../src/queue/producer.js";
import { parseProgress } from "../../src/queue/types.js";
import { InferenceWorker } from "../../src/queue/worker.js";
import { CONFIDENCES, joinConfidences, readConfidences } from "../../src/runs/confidences.js";
import { PREDICTIONS } from "../../src/runs/directory.js";
import { runIdOf } from "../../src/runs/spec.js";
import type { PredictionRecord } from "../../src/safety/types.js";
import {
  createRunDir,
  deletePrefix,
  localRunDir,
  predictionLines,
  SHARED_REDIS,
  shardOf,
  testPrefix,
  tinySpec,
  until,
} from "../support/queue.js";
import { testTempDir, tinyModelDir } from "../support/tiny-model.js";

const prefix = testPrefix();
const cacheDir = testTempDir("cache-");
let connection: QueueConnection;
let worker: InferenceWorker;
const logs: string[] = [];

beforeAll(async () => {
  connection = await QueueConnection.open(SHARED_REDIS, { prefix });
  worker = await InferenceWorker.start({
    redis: SHARED_REDIS,
    prefix,
    cacheDir,
    heartbeatMs: 300,
    log: (line) => logs.push(line),
  });
});
afterAll(async () => {
  await worker?.stop();
  await connection?.close();
  await deletePrefix(prefix);
});

const comparable = ({ elapsed_ms: _, ...rest }: PredictionRecord) => rest;
const byId = (a: { instance_id: string }, b: { instance_id: string }) =>
  a.instance_id < b.instance_id ? -1 : 1;

describe("InferenceWorker", () => {
  test("two shards run end to end into the run directory, equal to an in-process runJob", async () => {
    const spec = tinySpec();
    const sweepId = "e2e";
    const out = testTempDir("runs-");
    const runDir = await createRunDir(out, spec);
    const written: string[] = [];
    const collector = await startCollector({
      redis: SHARED_REDIS,
      prefix,
      sweepId,
      out,
      blockMs: 200,
      onPrediction: (p) => written.push(p.instanceId),
    });
    const { jobIds } = await enqueueShards(connection, {
      sweepId,
      shards: [0, 1].map((i) => ({ spec: shardOf(spec, i, 2) })),
    });

    // While it runs, the heartbeat names the worker, its model and its job.
    const beat = await until(
      async () =>
        (await listWorkers(connection)).find((w) => w.id === worker.id && w.jobs.length > 0),
      { what: "a heartbeat with a job" },
    );
    expect(beat).toMatchObject({ pid: process.pid, device: "spec", state: "busy" });
    expect(jobIds).toContain(beat.jobs[0]?.jobId);

    const states = await until(
      async () => {
        const s = await shardStates(connection, sweepId);
        return s.counts.completed === 2 ? s : undefined;
      },
      { what: "both shards completed", timeoutMs: 60_000 },
    );
    expect(states.shards.map((s) => [s.done, s.total])).toEqual([
      [3, 3],
      [3, 3],
    ]);
    expect(states.shards.every((s) => s.worker === worker.id)).toBe(true);
    const stats = await collector.stop({ drain: true });
    expect(stats).toEqual({ written: 6, duplicates: 0, malformed: 0, pending: 0 });
    expect(new Set(written).size).toBe(6);
    expect(worker.models.some((key) => key.startsWith(tinyModelDir()))).toBe(true);
    const job = await connection.queue.getJob(jobIds[0] as string);
    expect(parseProgress(job?.progress)?.ids).toHaveLength(3);
    expect(job?.returnvalue).toEqual({ runId: runIdOf(spec), done: 3, total: 3, ran: 3 });

    const onDisk = await predictionLines(join(runDir, PREDICTIONS));
    const local = await localRunDir(spec, testTempDir("local-"), cacheDir);
    const reference = await predictionLines(join(local, PREDICTIONS));
    expect(onDisk).toHaveLength(6);
    expect(onDisk.map(comparable).sort(byId)).toEqual(reference.map(comparable).sort(byId));
    // The confidences came with the predictions: the same sidecar as the local run's (in
    // another order), one record per instance, fitting its line.
    const sidecar = await readConfidences(join(runDir, CONFIDENCES));
    expect(sidecar).toMatchObject({ records: 6, duplicates: 0, torn: false });
    expect(sidecar.instances).toEqual((await readConfidences(join(local, CONFIDENCES))).instances);
    expect(joinConfidences(onDisk, sidecar)).toMatchObject({ missing: [], mismatched: [] });
  }, 90_000);

  test("a missing model folder fails the job with that message; the worker goes on", async () => {
    const missing = tinySpec({ model: { id: "/nonexistent/qwen3", revision: null, hash: null } });
    const good = tinySpec({ seed: 9 }, 2);
    const sweepId = "fails";
    await enqueueShards(connection, { sweepId, shards: [{ spec: missing }, { spec: good }] });
    const states = await until(
      async () => {
        const s = await shardStates(connection, sweepId);
        return s.counts.failed + s.counts.completed === 2 ? s : undefined;
      },
      { what: "both jobs settled", timeoutMs: 60_000 },
    );
    const failed = states.shards.find((s) => s.state === "failed");
    expect(failed?.runId).toBe(runIdOf(missing));
    expect(failed?.failedReason).toMatch(/model folder \/nonexistent\/qwen3 does not exist/);
    // An error in what was given is not retried.
    expect(failed?.attemptsMade).toBe(1);
    expect(states.shards.find((s) => s.state === "completed")?.runId).toBe(runIdOf(good));
    expect(
      logs.some((line) => /failed: model folder \/nonexistent\/qwen3 does not exist/.test(line)),
    ).toBe(true);
  }, 90_000);

  test("stop() removes the heartbeat", async () => {
    const other = await InferenceWorker.start({ redis: SHARED_REDIS, prefix, cacheDir });
    await until(async () => (await listWorkers(connection)).some((w) => w.id === other.id), {
      what: "the heartbeat",
    });
    await other.stop();
    expect(await other.exited).toBe("stopped");
    expect((await listWorkers(connection)).some((w) => w.id === other.id)).toBe(false);
  });

  test("with idleExitMs it exits once no job has been waiting or active that long", async () => {
    const idle = await InferenceWorker.start({
      redis: SHARED_REDIS,
      prefix,
      cacheDir,
      idleExitMs: 500,
    });
    const began = Date.now();
    expect(await idle.exited).toBe("idle");
    expect(Date.now() - began).toBeGreaterThanOrEqual(500);
    expect(Date.now() - began).toBeLessThan(5000);
  });
});
