/**
 * The collector on real Redis (this file's own key prefix), fed by hand-written stream entries:
 * exactly one line per (run, instance) however often it is delivered, nothing lost when the
 * collector is killed mid-stream and started again, entries left by a dead collector claimed,
 * entries that can never be written dropped and reported, a missing run directory waited for.
 */
import { join } from "node:path";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startCollector } from "../../src/queue/collector.js";
import { COLLECTOR_GROUP, resultsStreamKey } from "../../src/queue/names.js";
import { CONFIDENCES, readConfidences } from "../../src/runs/confidences.js";
import { encodeConfidences } from "../../src/runs/confidences-codec.js";
import { PREDICTIONS } from "../../src/runs/directory.js";
import { type JobSpec, runIdOf } from "../../src/runs/spec.js";
import {
  createRunDir,
  deletePrefix,
  predictionLines,
  redisClient,
  SHARED_REDIS,
  spawnTs,
  testPrefix,
  tinySpec,
  until,
} from "../support/queue.js";
import { testTempDir } from "../support/tiny-model.js";

const prefix = testPrefix();
let redis: Redis;
beforeAll(() => {
  redis = redisClient();
});
afterAll(async () => {
  redis?.disconnect();
  await deletePrefix(prefix);
});

/** A stand-in prediction: the collector only needs run_id and instance_id to match. */
function fields(runId: string, instanceId: string, prediction?: string): string[] {
  return [
    "run_id",
    runId,
    "instance_id",
    instanceId,
    "job_id",
    "test",
    "prediction",
    prediction ??
      JSON.stringify({
        run_id: runId,
        instance_id: instanceId,
        should_refuse: true,
        refused: true,
        pad: "x".repeat(2000),
      }),
  ];
}

/**
 * An entry as a worker sends it: a prediction with two traces and, in a binary field, their
 * confidences (`record` replaces them).
 */
function withConfidences(
  runId: string,
  instanceId: string,
  record?: Buffer,
): Array<string | Buffer> {
  const confidences = {
    instance_id: instanceId,
    k: 20,
    traces: [
      { trace_id: "t0", values: Float64Array.from([1.5, 2.25, instanceId.length]) },
      { trace_id: "t1", values: Float64Array.from([7.125]) },
    ],
  };
  const prediction = {
    run_id: runId,
    instance_id: instanceId,
    should_refuse: true,
    refused: true,
    traces: confidences.traces.map((t) => ({ trace_id: t.trace_id, tokens: t.values.length })),
  };
  return [
    ...fields(runId, instanceId, JSON.stringify(prediction)),
    "confidences",
    record ?? encodeConfidences(confidences),
  ];
}

async function send(sweepId: string, entries: Array<Array<string | Buffer>>): Promise<void> {
  const key = resultsStreamKey(prefix, sweepId);
  await redis.pipeline(entries.map((f) => ["xadd", key, "*", ...f])).exec();
}

async function linesOf(out: string, spec: JobSpec) {
  return predictionLines(join(out, runIdOf(spec), PREDICTIONS));
}

async function sidecarOf(out: string, spec: JobSpec) {
  return readConfidences(join(out, runIdOf(spec), CONFIDENCES));
}

describe("collector", () => {
  test("twice delivered is written once; bad entries dropped; a missing run directory waited for", async () => {
    const sweepId = "dups";
    const out = testTempDir("runs-");
    const a = tinySpec({ seed: 1 });
    const b = tinySpec({ seed: 2 });
    await createRunDir(out, a);
    const [ra, rb] = [runIdOf(a), runIdOf(b)];
    // Sent before any collector exists: the group starts at the stream's beginning.
    await send(sweepId, [
      fields(ra, "i1"),
      fields(ra, "i2"),
      fields(ra, "i1"),
      fields(ra, "i3", "{not json"),
      fields("../escape", "i4"),
      fields(ra, "i5", JSON.stringify({ run_id: ra, instance_id: "other" })),
      fields(rb, "j1"),
    ]);
    const problems: string[] = [];
    const written: string[] = [];
    const collector = await startCollector({
      redis: SHARED_REDIS,
      prefix,
      sweepId,
      out,
      blockMs: 100,
      retryMs: 200,
      onPrediction: (p) => written.push(`${p.runId}/${p.instanceId}`),
      onProblem: (m) => problems.push(m),
    });
    await until(
      () => written.length === 2 && problems.some((m) => m.includes("no run directory")),
      {
        what: "run a written, run b waiting",
      },
    );
    expect(collector.stats).toMatchObject({ written: 2, duplicates: 1, malformed: 3, pending: 1 });
    expect(problems.filter((m) => /dropped/.test(m))).toHaveLength(3);
    expect(problems.find((m) => m.includes("no run directory"))).toContain(rb);

    await createRunDir(out, b);
    await until(() => written.length === 3, { what: "run b written once its directory exists" });
    // The same again, now that both are on disk.
    await send(sweepId, [fields(ra, "i2"), fields(rb, "j1")]);
    const stats = await collector.stop({ drain: true });
    expect(stats).toEqual({ written: 3, duplicates: 3, malformed: 3, pending: 0 });
    expect((await linesOf(out, a)).map((p) => p.instance_id)).toEqual(["i1", "i2"]);
    expect((await linesOf(out, b)).map((p) => p.instance_id)).toEqual(["j1"]);
    // Acknowledged and deleted: nothing left in the stream or pending.
    const key = resultsStreamKey(prefix, sweepId);
    expect(await redis.xlen(key)).toBe(0);
    expect(((await redis.xpending(key, COLLECTOR_GROUP)) as [number])[0]).toBe(0);
  });

  test("confidences come in a binary field: written once beside their line; bad ones never cost the line", async () => {
    const sweepId = "confidences";
    const out = testTempDir("runs-");
    const spec = tinySpec({ seed: 3 });
    await createRunDir(out, spec);
    const run = runIdOf(spec);
    const good = withConfidences(run, "c1");
    const damaged = Buffer.from(good.at(-1) as Buffer);
    (damaged[12] as number) ^= 1;
    const foreign = withConfidences(run, "c9").at(-1) as Buffer;
    await send(sweepId, [
      good,
      withConfidences(run, "c2", damaged),
      withConfidences(run, "c3", foreign),
      fields(run, "c4"), // an older worker: no confidences
      good,
    ]);
    const problems: string[] = [];
    const collector = await startCollector({
      redis: SHARED_REDIS,
      prefix,
      sweepId,
      out,
      blockMs: 100,
      onProblem: (m) => problems.push(m),
    });
    const stats = await collector.stop({ drain: true });
    expect(stats).toEqual({ written: 4, duplicates: 1, malformed: 0, pending: 0 });
    expect((await linesOf(out, spec)).map((p) => p.instance_id)).toEqual(["c1", "c2", "c3", "c4"]);
    const sidecar = await sidecarOf(out, spec);
    expect(sidecar).toMatchObject({ records: 1, duplicates: 0, torn: false });
    expect(sidecar.instances.get("c1")).toEqual({
      k: 20,
      traces: new Map([
        ["t0", Float32Array.from([1.5, 2.25, 2])],
        ["t1", Float32Array.from([7.125])],
      ]),
    });
    // Reported once per run (the first), with why and what was done.
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^results entry \S+: bad confidences record: checksum mismatch: the prediction is written without them$/,
    );
  });

  test("killed mid-stream (SIGKILL) and started again: nothing lost, nothing duplicated", async () => {
    const sweepId = "killed";
    const out = testTempDir("runs-");
    const specs = [11, 12, 13].map((seed) => tinySpec({ seed }));
    for (const spec of specs) await createRunDir(out, spec);
    const perRun = 150;
    const entries: Array<Array<string | Buffer>> = [];
    for (let i = 0; i < perRun; i++) {
      for (const spec of specs) {
        entries.push(withConfidences(runIdOf(spec), `q${i}`));
        // Every fifth instance is delivered twice, some far apart.
        if (i % 5 === 0) entries.push(withConfidences(runIdOf(spec), `q${Math.floor(i / 2)}`));
      }
    }
    await send(sweepId, entries);

    const child = spawnTs("test/support/collector-child.ts", [SHARED_REDIS, prefix, sweepId, out]);
    await until(() => (child.output().match(/^written /gm)?.length ?? 0) >= 60, {
      what: "60 predictions written",
      everyMs: 5,
      timeoutMs: 60_000,
    });
    child.process.kill("SIGKILL");
    await child.exited;
    let before = 0;
    for (const spec of specs) before += (await linesOf(out, spec)).length;
    expect(before).toBeGreaterThanOrEqual(60);
    expect(before).toBeLessThan(perRun * specs.length);

    const restarted = await startCollector({
      redis: SHARED_REDIS,
      prefix,
      sweepId,
      out,
      blockMs: 100,
    });
    const stats = await restarted.stop({ drain: true });
    expect(before + stats.written).toBe(perRun * specs.length);
    for (const spec of specs) {
      const ids = (await linesOf(out, spec)).map((p) => p.instance_id);
      expect(ids).toHaveLength(perRun);
      expect(new Set(ids).size).toBe(perRun);
      // The sidecar too: a batch whose records were written and its lines not (the kill between
      // the two writes) was cut off on reopening, and written again with its lines.
      const sidecar = await sidecarOf(out, spec);
      expect(sidecar).toMatchObject({ records: perRun, duplicates: 0, torn: false });
      expect([...sidecar.instances.keys()]).toEqual(ids);
    }
    const key = resultsStreamKey(prefix, sweepId);
    expect(((await redis.xpending(key, COLLECTOR_GROUP)) as [number])[0]).toBe(0);
    console.info(
      `collector SIGKILLed after ${before} of ${entries.length} entries; the restart wrote ${stats.written} and dropped ${stats.duplicates} duplicates`,
    );
  }, 90_000);

  test("entries a dead collector read but never acknowledged are claimed by another", async () => {
    const sweepId = "claim";
    const out = testTempDir("runs-");
    const spec = tinySpec({ seed: 21 });
    await createRunDir(out, spec);
    const key = resultsStreamKey(prefix, sweepId);
    await redis.xgroup("CREATE", key, COLLECTOR_GROUP, "0", "MKSTREAM");
    await send(
      sweepId,
      [1, 2, 3, 4, 5].map((i) => fields(runIdOf(spec), `c${i}`)),
    );
    // A collector on another host read them and died.
    await redis.xreadgroup("GROUP", COLLECTOR_GROUP, "dead-host", "COUNT", 10, "STREAMS", key, ">");
    const collector = await startCollector({
      redis: SHARED_REDIS,
      prefix,
      sweepId,
      out,
      consumer: "alive-host",
      blockMs: 100,
      claimIdleMs: 300,
    });
    await until(() => collector.stats.written === 5, { what: "the dead collector's entries" });
    await collector.stop();
    expect((await linesOf(out, spec)).map((p) => p.instance_id)).toEqual([
      "c1",
      "c2",
      "c3",
      "c4",
      "c5",
    ]);
  });
});
