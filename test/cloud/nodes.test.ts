/**
 * `deepconf nodes` against the local Lambda stand-in, for what needs no SSH: the catalogue,
 * credentials, cost guards, region failover, a launch whose answer was lost, clean-up of a node
 * that never took SSH (terminated, verified, never left billing), terminate's re-reads, and the
 * fleet view (console instances without a name, nodes ended elsewhere). The API key never shows.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { LambdaClient } from "../../src/cloud/lambda/client.js";
import { reconcile, stillBillingWarning, terminateNodes } from "../../src/cloud/nodes/fleet.js";
import { NodeHolder } from "../../src/cloud/nodes/keeper.js";
import { type LaunchPlan, launchNodes } from "../../src/cloud/nodes/launch.js";
import { type NodeRecord, NodeStore } from "../../src/cloud/nodes/state.js";
import { KnownHosts } from "../../src/cloud/ssh/known-hosts.js";
import type { TunnelKeeper } from "../../src/cloud/ssh/tunnel.js";
import { listWorkers, QueueConnection } from "../../src/queue/producer.js";
import { parseRedisUrl } from "../../src/queue/redis.js";
import { InferenceWorker } from "../../src/queue/worker.js";
import { deepconf } from "../support/cli.js";
import { FakeLambda } from "../support/fake-lambda.js";
import { freePort } from "../support/ports.js";
import { deletePrefix, SHARED_REDIS, testPrefix, until } from "../support/queue.js";
import { testTempDir } from "../support/tiny-model.js";
import { VirtualClock } from "../support/virtual-clock.js";

const API_KEY = "lambda-secret-unit-3b8e21";
let lambda: FakeLambda;
let home: string;
const saved: Record<string, string | undefined> = {};

function setEnv(values: Record<string, string | undefined>) {
  for (const [key, value] of Object.entries(values)) {
    if (!(key in saved)) saved[key] = process.env[key];
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
}

beforeEach(async () => {
  lambda = await new FakeLambda({
    apiKey: API_KEY,
    bootMs: 200,
    terminateMs: 200,
    rateLimits: false,
  }).start();
  home = testTempDir("nodes-home-");
  setEnv({
    LAMBDA_API_URL: lambda.url,
    LAMBDA_API_KEY: API_KEY,
    DEEPCONF_HOME: home,
    REDIS_URL: undefined,
  });
});

afterEach(async () => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
    delete saved[key];
  }
  await lambda.close();
});

/**
 * A client on a virtual clock: its pacing and backoff cost no real time (the stand-in's own rate
 * limits are off in these tests; the client tests check both).
 */
const fastClient = () =>
  new LambdaClient({ apiKey: API_KEY, baseUrl: lambda.url, clock: new VirtualClock() });

describe("catalogue and credentials", () => {
  test("nodes types: prices and regions with capacity, as a table and as the API's JSON", async () => {
    const table = await deepconf("nodes", "types");
    expect(table.code, table.stderr).toBe(0);
    const a10Row = table.stdout.split("\n").find((line) => line.includes("gpu_1x_a10"));
    expect(a10Row).toMatch(/A10 \(24 GB PCIe\)\W+\$0\.75\W+30\W+200\W+us-west-1, us-east-1/);
    lambda.setCapacity("gpu_1x_a10", []);
    const json = await deepconf("nodes", "types", "--json");
    const a10 = JSON.parse(json.stdout).find((t: { name: string }) => t.name === "gpu_1x_a10");
    expect(a10).toMatchObject({ price_cents_per_hour: 75, regions_with_capacity_available: [] });
  });

  test("no key: says where to put one; a wrong key: says so without printing it", async () => {
    setEnv({ LAMBDA_API_KEY: undefined, HOME: testTempDir("empty-home-") });
    const none = await deepconf("nodes", "list");
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/LAMBDA_API_KEY/);
    expect(none.stderr).toMatch(/lambda_keys/);

    const keys = join(process.env.HOME as string, ".lambda_cloud");
    mkdirSync(keys, { recursive: true });
    writeFileSync(join(keys, "lambda_keys"), "api_key = wrong-key-9c0d\n");
    const wrong = await deepconf("nodes", "list");
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/invalid-api-key/);
    expect(wrong.stderr).not.toContain("wrong-key-9c0d");
  });
});

describe("launch guards (nothing is launched)", () => {
  test("--max-hourly, a region without capacity, an unknown type, a bad prefix", async () => {
    const launch = (...flags: string[]) =>
      deepconf("nodes", "launch", "--redis", SHARED_REDIS, "--prefix", testPrefix(), ...flags);
    const none = await launch("--type", "gpu_8x_h100_sxm5");
    expect(none.stderr).toMatch(/no region has capacity for gpu_8x_h100_sxm5/);
    lambda.setCapacity("gpu_8x_h100_sxm5", ["us-west-1"]);
    const pricey = await launch("--type", "gpu_8x_h100_sxm5", "--max-hourly", "10");
    expect(pricey.code).toBe(2);
    expect(pricey.stderr).toMatch(/\$23\.92\/h.*over --max-hourly \$10\.00/);
    const elsewhere = await launch("--type", "gpu_8x_h100_sxm5", "--region", "us-east-1");
    expect(elsewhere.stderr).toMatch(/no capacity in us-east-1.*regions with capacity: us-west-1/);
    const unknown = await launch("--type", "gpu_1x_nothing");
    expect(unknown.stderr).toMatch(/no instance type "gpu_1x_nothing"/);
    const hostile = await launch("--type", "gpu_1x_a10", "--name-prefix", "x$(touch /tmp/pwned)");
    expect(hostile.code).toBe(2);
    expect(hostile.stderr).toMatch(/--name-prefix/);
    expect(lambda.instances()).toEqual([]);
    for (const run of [pricey, elsewhere, unknown, hostile])
      expect(run.stderr).not.toContain(API_KEY);
  });
});

/** A launch whose SSH never answers (a closed port): it must end terminated, not billing. */
async function failingLaunch(
  plan: Partial<LaunchPlan> = {},
  { abortOn }: { abortOn?: RegExp } = {},
) {
  const store = new NodeStore(join(home, "nodes.json"));
  const queue = await QueueConnection.open(SHARED_REDIS, { prefix: testPrefix() });
  const lines: string[] = [];
  const controller = new AbortController();
  try {
    const outcome = await launchNodes(
      {
        client: fastClient(),
        store,
        knownHosts: new KnownHosts(join(home, "known_hosts")),
        privateKey: Buffer.from("unused: SSH never answers"),
        redis: parseRedisUrl(SHARED_REDIS),
        queue,
        bundle: () => Promise.reject(new Error("not reached")),
        signal: controller.signal,
        progress: (node, line) => {
          lines.push(`${node}: ${line}`);
          if (abortOn?.test(line)) controller.abort(new Error("SIGINT"));
        },
        log: (line) => lines.push(line),
        pollMs: 50,
        terminate: { attempts: 3, delayMs: 50 },
      },
      {
        type: "gpu_1x_a10",
        region: null,
        count: 1,
        namePrefix: "unit-",
        keyName: lambda.addSshKey("unit-key").name,
        keyFile: "unused",
        sshUser: "ubuntu",
        sshPort: await freePort(),
        remoteDir: "deepconf",
        device: "cuda",
        maxRows: null,
        queuePrefix: testPrefix(),
        idleTerminateMs: null,
        maxHourlyUsd: null,
        budgetUsd: null,
        keepOnFailure: false,
        readyTimeoutMs: 1500,
        workerTimeoutMs: 1000,
        pull: [],
        workerEnv: {},
        ...plan,
      },
    );
    return { outcome, store, lines };
  } finally {
    await queue.close();
  }
}

describe("launch failures end in terminated nodes", () => {
  test("capacity gone in the first region: fails over; SSH never ready: terminated and verified", async () => {
    lambda.failNext(1, {
      status: 400,
      path: "/instance-operations/launch",
      code: "instance-operations/launch/insufficient-capacity",
      message: "Not enough capacity",
    });
    const { outcome, store, lines } = await failingLaunch();
    expect(outcome.launched).toEqual([]);
    expect(outcome.failed).toHaveLength(1);
    const [failed] = outcome.failed;
    expect(failed?.error).toMatch(/SSH/);
    expect(failed?.termination).toMatchObject({ terminated: true });
    expect(lines.join("\n")).toMatch(
      /no capacity in us-west-1 after all[\s\S]*launching gpu_1x_a10 in us-east-1/,
    );
    const [instance] = lambda.instances();
    expect(instance).toMatchObject({ region: { name: "us-east-1" } });
    expect(instance?.status).toMatch(/terminat/);
    expect(store.get(instance?.id as string)).toMatchObject({
      stage: "terminated",
      error: expect.stringMatching(/SSH/),
    });
  });

  test("a launch whose answer is lost (500 after the node exists) is found by name and terminated", async () => {
    lambda.failNextLaunchAfterCommit(500);
    const { outcome, store } = await failingLaunch();
    const [failed] = outcome.failed;
    expect(failed?.id).not.toBeNull();
    expect(failed?.termination?.terminated).toBe(true);
    expect(lambda.instances().map((i) => i.id)).toEqual([failed?.id]);
    expect(lambda.instance(failed?.id as string)?.status).toMatch(/terminat/);
    expect(store.all()).toHaveLength(1);
  });

  test("Ctrl-C while the node boots: it is terminated, and the outcome says interrupted", async () => {
    const { outcome } = await failingLaunch({ readyTimeoutMs: 60_000 }, { abortOn: /^launched / });
    const [failed] = outcome.failed;
    expect(failed).toMatchObject({ error: "interrupted", kept: false });
    expect(failed?.termination?.terminated).toBe(true);
    expect(lambda.instance(failed?.id as string)?.status).toMatch(/terminat/);
  });

  test("--keep-on-failure leaves the node running and says it bills", async () => {
    const { outcome, lines } = await failingLaunch({ keepOnFailure: true });
    expect(outcome.failed[0]).toMatchObject({ kept: true, termination: null });
    expect(lambda.instances()[0]?.status).toMatch(/booting|active/);
    expect(lines.join("\n")).toMatch(/kept running as asked .* bills until terminated/);
  });
});

const record = (id: string, name: string): NodeRecord => ({
  id,
  name,
  type: "gpu_1x_a10",
  region: "us-west-1",
  priceCentsPerHour: 75,
  // 89.5 minutes ago: billed as 90 started minutes.
  launchedAt: new Date(Date.now() - 89.5 * 60_000).toISOString(),
  terminatedAt: null,
  stage: "ready",
  ip: null,
  ssh: { user: "ubuntu", port: 22, keyFile: "k" },
  remoteDir: "/home/ubuntu/deepconf",
  device: "cuda",
  queuePrefix: "deepconf",
  tunnelPort: null,
  idleTerminateMs: null,
  gpu: null,
  install: null,
  readyAt: null,
  error: null,
});

describe("fleet and terminate", () => {
  test("reconcile: cost from price x uptime, console instances without a name, nodes ended elsewhere", async () => {
    const store = new NodeStore(join(home, "nodes.json"));
    const ours = lambda.addConsoleInstance({ type: "gpu_1x_a10" });
    lambda.addConsoleInstance({ type: "gpu_1x_h100_pcie" }); // no name: not ours, not listed
    store.put(record(ours.id, "deepconf-aaaaaa"));
    store.put(record("gone-instance-id", "deepconf-bbbbbb"));
    const nodes = await reconcile(fastClient(), store, "deepconf-");
    expect(nodes.map((n) => [n.id, n.status])).toEqual([
      [ours.id, "active"],
      ["gone-instance-id", "gone"],
    ]);
    // 90 minutes at $0.75/h.
    expect(nodes[0]?.costUsd).toBeCloseTo(1.125, 3);
    expect(store.get("gone-instance-id")?.stage).toBe("terminated");
    const cost = await deepconf("nodes", "cost");
    expect(cost.stdout).toMatch(/total since launch: \$2\.25/);
  });

  test("terminate: a node already terminating answers global/unknown and still counts as ending; a 503 burst is retried", async () => {
    const store = new NodeStore(join(home, "nodes.json"));
    const a = lambda.addConsoleInstance();
    const b = lambda.addConsoleInstance({ status: "terminating" });
    store.put(record(a.id, "deepconf-a"));
    store.put(record(b.id, "deepconf-b"));
    lambda.failNext(2, { status: 503, html: true });
    const outcomes = await terminateNodes(fastClient(), store, [a.id, b.id], {
      attempts: 3,
      delayMs: 10,
    });
    expect(outcomes.map((o) => [o.id, o.terminated])).toEqual([
      [a.id, true],
      [b.id, true],
    ]);
    expect(store.get(a.id)?.stage).toBe("terminated");
  });

  test("terminate that never takes: says loudly which node may still bill and how to end it", async () => {
    const store = new NodeStore(join(home, "nodes.json"));
    const a = lambda.addConsoleInstance();
    store.put(record(a.id, "deepconf-stuck"));
    lambda.failNext(100, { status: 500, code: "global/internal-error", message: "boom" });
    const outcomes = await terminateNodes(fastClient(), store, [a.id], {
      attempts: 2,
      delayMs: 10,
    });
    expect(outcomes[0]?.terminated).toBe(false);
    expect(stillBillingWarning(outcomes, () => 75)).toMatch(
      new RegExp(
        `MAY STILL BE BILLING[\\s\\S]*deepconf-stuck \\(${a.id}\\) at \\$0\\.75/h: deepconf nodes terminate deepconf-stuck`,
      ),
    );
  });
});

describe("the guards that need a running process", () => {
  test("idle terminate ends the node whose worker has had no work for its set time, not one allowed longer", async () => {
    const store = new NodeStore(join(home, "nodes.json"));
    const prefix = testPrefix();
    const idle = lambda.addConsoleInstance();
    const fresh = lambda.addConsoleInstance();
    const hour = 60 * 60_000;
    store.put({ ...record(idle.id, "deepconf-idle"), idleTerminateMs: 20 * 60_000 });
    store.put({ ...record(fresh.id, "deepconf-fresh"), idleTerminateMs: 2 * hour });
    const worker = await InferenceWorker.start({
      redis: SHARED_REDIS,
      prefix,
      cacheDir: testTempDir("cache-"),
      node: "deepconf-idle",
      heartbeatMs: 200,
    });
    const queue = await QueueConnection.open(SHARED_REDIS, { prefix });
    const lines: string[] = [];
    const holder = new NodeHolder({
      client: fastClient(),
      store,
      prefix: "deepconf-",
      queue,
      budgetUsd: null,
      log: (line) => lines.push(line),
      warn: (text) => lines.push(text),
    });
    const stopped: string[] = [];
    const tunnel = (id: string) =>
      ({ stop: async () => void stopped.push(id) }) as unknown as TunnelKeeper;
    holder.add(store.get(idle.id) as NodeRecord, tunnel(idle.id));
    holder.add(store.get(fresh.id) as NodeRecord, tunnel(fresh.id));
    try {
      await until(async () => (await listWorkers(queue)).length === 1, { what: "the heartbeat" });
      // Now: nothing idle yet (the holder counts from when it took the nodes).
      await holder.check();
      expect(lambda.instance(idle.id)?.status).toBe("active");
      // 30 minutes on: the idle node goes, the one allowed 2 h stays.
      await holder.check(Date.now() + 30 * 60_000);
      expect(lambda.instance(idle.id)?.status).toMatch(/terminat/);
      expect(lambda.instance(fresh.id)?.status).toBe("active");
      expect(stopped).toEqual([idle.id]);
      expect(holder.size).toBe(1);
      expect(lines.join("\n")).toMatch(
        /deepconf-idle: no work for 30m \(idle terminate 20m\): terminating/,
      );
    } finally {
      await worker.stop();
      await holder.release();
      await queue.close();
      await deletePrefix(prefix);
    }
  });

  test("the budget: every held node is terminated once they have cost it together", async () => {
    const store = new NodeStore(join(home, "nodes.json"));
    const a = lambda.addConsoleInstance();
    const b = lambda.addConsoleInstance();
    store.put(record(a.id, "deepconf-a"));
    store.put(record(b.id, "deepconf-b"));
    const lines: string[] = [];
    const holder = new NodeHolder({
      client: fastClient(),
      store,
      prefix: "deepconf-",
      queue: null,
      budgetUsd: 2.5,
      log: (line) => lines.push(line),
      warn: (text) => lines.push(text),
    });
    const noTunnel = { stop: async () => undefined } as unknown as TunnelKeeper;
    holder.add(store.get(a.id) as NodeRecord, noTunnel);
    holder.add(store.get(b.id) as NodeRecord, noTunnel);
    // 2 x 90 min at $0.75/h = $2.25: under the budget.
    await holder.check();
    expect(holder.size).toBe(2);
    // 20 minutes later: 2 x 110 min = $2.75.
    await holder.check(Date.now() + 20 * 60_000);
    expect(holder.size).toBe(0);
    expect(lambda.instances().map((i) => i.status)).toEqual([
      expect.stringMatching(/terminat/),
      expect.stringMatching(/terminat/),
    ]);
    expect(lines.join("\n")).toMatch(
      /budget \$2\.50 reached \(\$2\.75 spent\): terminating 2 node/,
    );
  });
});
