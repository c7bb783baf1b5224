/**
 * Enqueueing shards on real Redis (a key prefix of this file's own): deterministic job ids that
 * BullMQ accepts, idempotent re-enqueueing, plain job data without secrets, shard states.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { InputError } from "../../src/errors.js";
import { shardJobId } from "../../src/queue/names.js";
import {
  enqueueShards,
  QueueConnection,
  shardStates,
  sweepJobIds,
} from "../../src/queue/producer.js";
import { runIdOf } from "../../src/runs/spec.js";
import { deletePrefix, SHARED_REDIS, shardOf, testPrefix, tinySpec } from "../support/queue.js";

const prefix = testPrefix();
let connection: QueueConnection;
beforeAll(async () => {
  connection = await QueueConnection.open(SHARED_REDIS, { prefix });
});
afterAll(async () => {
  await connection?.close();
  await deletePrefix(prefix);
});

describe("job ids", () => {
  test("come from the sweep and the spec alone, never with ':' or all digits", () => {
    const spec = tinySpec();
    const runId = runIdOf(spec);
    expect(shardJobId("sw1", shardOf(spec, 2, 5))).toBe(`sw1.${runId}.s2of5`);
    expect(shardJobId("sw1", spec)).toBe(`sw1.${runId}.all`);
    const ids = { ...spec, selection: { ...spec.selection, ids: ["a", "b"] } };
    expect(shardJobId("sw1", ids)).toMatch(new RegExp(`^sw1\\.${runId}\\.i[0-9a-f]{10}$`));
    expect(shardJobId("sw1", ids)).toBe(shardJobId("sw1", JSON.parse(JSON.stringify(ids))));
    expect(() => shardJobId("a:b", spec)).toThrow(InputError);
    expect(() => shardJobId("", spec)).toThrow(InputError);
  });
});

describe("enqueueShards", () => {
  test("is idempotent: a second enqueue of the same shards adds nothing", async () => {
    const spec = tinySpec();
    const shards = [0, 1, 2].map((i) => ({ spec: shardOf(spec, i, 3) }));
    const first = await enqueueShards(connection, { sweepId: "idem", shards });
    expect(first.added).toEqual(first.jobIds);
    expect(first.existing).toEqual([]);
    expect(first.jobIds).toEqual([0, 1, 2].map((i) => `idem.${runIdOf(spec)}.s${i}of3`));

    // The same shards again (a re-launch, a resume), as JSON from elsewhere, in another order.
    const again = JSON.parse(JSON.stringify([...shards].reverse()));
    const second = await enqueueShards(connection, { sweepId: "idem", shards: again });
    expect(second.added).toEqual([]);
    expect(second.existing.sort()).toEqual([...first.jobIds].sort());
    expect(await connection.queue.getJobCountByTypes("waiting", "prioritized")).toBe(3);
    expect(await sweepJobIds(connection, "idem")).toEqual([...first.jobIds].sort());

    // One more shard count: new ids, only those are added.
    const more = await enqueueShards(connection, {
      sweepId: "idem",
      shards: [{ spec: shardOf(spec, 0, 3) }, { spec: shardOf(spec, 0, 4) }],
    });
    expect(more.added).toEqual([`idem.${runIdOf(spec)}.s0of4`]);
  });

  test("job data is the sweep id and the spec, plain JSON; HF_TOKEN is refused", async () => {
    const spec = tinySpec({ seed: 77 });
    const { jobIds } = await enqueueShards(connection, { sweepId: "data", shards: [{ spec }] });
    const job = await connection.queue.getJob(jobIds[0] as string);
    expect(job?.data).toEqual({ sweepId: "data", spec });
    expect(job?.name).toBe("shard");

    const saved = process.env.HF_TOKEN;
    process.env.HF_TOKEN = "hf_testtokenthatmustnotleak";
    try {
      const leaky = tinySpec({
        benchmark: { spec: "jsonl:/x/hf_testtokenthatmustnotleak.jsonl", revision: null },
      });
      await expect(
        enqueueShards(connection, { sweepId: "data", shards: [{ spec: leaky }] }),
      ).rejects.toThrow(/contains HF_TOKEN/);
    } finally {
      if (saved === undefined) delete process.env.HF_TOKEN;
      else process.env.HF_TOKEN = saved;
    }
  });

  test("a bad spec or priority is an input error naming the shard", async () => {
    const bad = { ...tinySpec(), method: "greedy" } as unknown as ReturnType<typeof tinySpec>;
    await expect(
      enqueueShards(connection, { sweepId: "bad", shards: [{ spec: bad }] }),
    ).rejects.toThrow(/^shard 0: method: /);
    await expect(
      enqueueShards(connection, { sweepId: "bad", shards: [{ spec: tinySpec(), priority: 0 }] }),
    ).rejects.toThrow(/priority/);
  });

  test("shard states: counts per state, and shards Redis does not know are missing", async () => {
    const spec = tinySpec({ seed: 78 });
    const { jobIds } = await enqueueShards(connection, {
      sweepId: "states",
      shards: [0, 1].map((i) => ({ spec: shardOf(spec, i, 2), priority: 5 })),
    });
    const known = await shardStates(connection, "states");
    expect(known.counts).toMatchObject({
      waiting: 2,
      active: 0,
      completed: 0,
      failed: 0,
      missing: 0,
    });
    expect(known.shards.map((s) => s.runId)).toEqual([runIdOf(spec), runIdOf(spec)]);
    const withLost = await shardStates(connection, "states", [...jobIds, "states.lost.s9of9"]);
    expect(withLost.counts.missing).toBe(1);
    expect(withLost.shards.at(-1)).toMatchObject({ jobId: "states.lost.s9of9", state: "missing" });
  });
});
