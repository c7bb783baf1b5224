/**
 * `deepconf nodes` end to end, with nothing reaching the internet: the Lambda API is the local
 * stand-in (test/support/fake-lambda.ts), the "node" is a real OpenSSH sshd on a loopback port
 * (started late on purpose), reached through a TCP proxy that can cut the link, with a fake
 * nvidia-smi first on its sessions' PATH. `nodes launch` runs as a child process: capacity ->
 * launch -> active -> SSH ready -> GPU probe -> bootstrap into a temporary folder (the project
 * tarball, npm ci --omit=dev from the npm cache) -> worker (CPU, built-in model) -> heartbeat in
 * our Redis through the reverse tunnel. A sweep on the queue then runs on that worker; the proxy
 * cuts the SSH link mid-shard; the tunnel comes back and every prediction arrives exactly once,
 * equal to the in-process launch of the same file. Then list, ssh, logs, cost and terminate.
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { listWorkers, QueueConnection } from "../../src/queue/producer.js";
import { BUILTIN_MODEL } from "../../src/runs/spec.js";
import { deepconf } from "../support/cli.js";
import { FakeLambda } from "../support/fake-lambda.js";
import {
  type Child,
  deletePrefix,
  SHARED_REDIS,
  spawnTs,
  testPrefix,
  until,
} from "../support/queue.js";
import { type Sshd, startSshd } from "../support/sshd.js";
import {
  expectExactlyOnce,
  launchFollow,
  linesOnDisk,
  referenceLaunch,
  sweepUnder,
  writeSweepFile,
} from "../support/sweeps.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";
import { testTempDir } from "../support/tiny-model.js";

const API_KEY = "lambda-secret-e2e-7f1c9d";
const HF_TOKEN = "hf_secret_e2e_0a9b8c";
const prefix = testPrefix();
const root = testTempDir("nodes-e2e-");
const home = join(root, "deepconf-home");
const remoteDir = join(root, "node-home", "deepconf");
const cacheDir = join(root, "cache");

let lambda: FakeLambda;
let sshd: Sshd;
let proxy: TcpProxy;
let keyFile: string;
let launch: Child | null = null;
const saved: Record<string, string | undefined> = {};

function setEnv(values: Record<string, string>) {
  for (const [key, value] of Object.entries(values)) {
    saved[key] = process.env[key];
    process.env[key] = value;
  }
}

beforeAll(async () => {
  const bin = join(root, "fake-bin");
  mkdirSync(bin, { recursive: true });
  // What nvidia-smi prints for these two queries on an A10 node.
  writeFileSync(
    join(bin, "nvidia-smi"),
    [
      "#!/bin/sh",
      'case "$*" in',
      '  *--query-gpu*) echo "NVIDIA A10, 23028, 535.129.03" ;;',
      '  *) echo "| NVIDIA-SMI 535.129.03   Driver Version: 535.129.03   CUDA Version: 12.2 |" ;;',
      "esac",
    ].join("\n"),
  );
  chmodSync(join(bin, "nvidia-smi"), 0o755);
  // Late on purpose: the launch reaches its SSH wait about 10 s in, so SSH is retried.
  sshd = await startSshd({
    startDelayMs: 25_000,
    setEnvPath: `${bin}:/usr/local/bin:/usr/bin:/bin`,
  });
  proxy = await startTcpProxy(sshd.host, sshd.port);
  keyFile = join(root, "id_ed25519");
  writeFileSync(keyFile, sshd.privateKey, { mode: 0o600 });
  lambda = await new FakeLambda({ apiKey: API_KEY, bootMs: 2000, terminateMs: 1000 }).start();
  setEnv({
    LAMBDA_API_URL: lambda.url,
    LAMBDA_API_KEY: API_KEY,
    DEEPCONF_HOME: home,
    HF_TOKEN,
  });
}, 60_000);

afterAll(async () => {
  launch?.process.kill("SIGKILL");
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  // The supervisor and worker run in sessions of their own; a failed test must not leave them.
  for (const pidFile of ["supervisor.pid", "worker.pid"]) {
    const path = join(remoteDir, pidFile);
    if (!existsSync(path)) continue;
    try {
      process.kill(Number(readFileSync(path, "utf8").trim()), "SIGKILL");
    } catch {
      // already gone
    }
  }
  await proxy?.close();
  await sshd?.dispose();
  await lambda?.close();
  await deletePrefix(prefix);
});

describe("deepconf nodes against the stand-in API and a real sshd", () => {
  test("launch -> worker through the tunnel -> sweep survives a cut link -> list, ssh, logs, cost, terminate", async () => {
    launch = spawnTs("src/cli/main.ts", [
      "nodes",
      "launch",
      "--type",
      "gpu_1x_a10",
      "--name-prefix",
      "e2e-",
      "--ssh-key-file",
      keyFile,
      "--ssh-user",
      sshd.username,
      "--ssh-port",
      String(proxy.port),
      "--remote-dir",
      remoteDir,
      "--device",
      "cpu",
      "--redis",
      SHARED_REDIS,
      "--prefix",
      prefix,
      "--json",
    ]);
    await launch.waitFor(/holding 1 node/, 240_000);
    const output = launch.output();
    expect(output).toMatch(/launching gpu_1x_a10 in /);
    expect(output).toMatch(/SSH not ready yet \(try 2: /);
    expect(output).toMatch(/GPU: 1 x NVIDIA A10, 23028 MiB, driver 535\.129\.03, CUDA 12\.2/);
    expect(output).toMatch(/installed in \d+ s, node_modules \d+ MiB/);
    expect(output).toMatch(/worker connected: ready/);
    expect(output).not.toContain(API_KEY);

    const queue = await QueueConnection.open(SHARED_REDIS, { prefix });
    try {
      const workers = await listWorkers(queue);
      expect(workers.map((w) => w.node)).toEqual([expect.stringMatching(/^e2e-[0-9a-f]{6}$/)]);
    } finally {
      await queue.close();
    }
    // The node's files: the secret-bearing env files are 0600.
    const mode = (name: string) => statSync(join(remoteDir, name)).mode & 0o777;
    expect(mode("redis.env")).toBe(0o600);
    expect(mode("worker.env")).toBe(0o600);

    // A sweep on the queue, run by the node's worker; the link is cut mid-shard.
    const sweepFile = writeSweepFile({
      name: "nodes-e2e",
      models: [BUILTIN_MODEL],
      limit: 24,
      methods: ["deepconf-low"],
      shardSize: 12,
      maxNewTokens: 16,
    });
    const reference = await referenceLaunch(sweepFile, cacheDir);
    const out = testTempDir("nodes-e2e-out-");
    const follow = launchFollow(sweepFile, { out, cacheDir, prefix });
    const sweep = await sweepUnder(out);
    await until(async () => (await linesOnDisk(sweep, out)) > 0, {
      timeoutMs: 120_000,
      what: "the first prediction from the node",
    });
    proxy.cutAll();
    const run = await follow;
    expect(run.code, run.stderr).toBe(0);
    await expectExactlyOnce(sweep, out, reference);
    expect(launch.output()).toMatch(/connection lost|reconnect/i);

    const list = await deepconf(
      "nodes",
      "list",
      "--name-prefix",
      "e2e-",
      "--redis",
      SHARED_REDIS,
      "--prefix",
      prefix,
      "--json",
    );
    expect(list.code, list.stderr).toBe(0);
    const listed = JSON.parse(list.stdout).nodes;
    expect(listed).toHaveLength(1);
    const node = listed[0];
    expect(node).toMatchObject({
      status: "active",
      stage: "ready",
      type: "gpu_1x_a10",
      ip: "127.0.0.1",
    });
    expect(node.cost_usd).toBeGreaterThan(0);
    expect(node.workers).toHaveLength(1);

    const ssh = await deepconf(
      "nodes",
      "ssh",
      node.name,
      "--name-prefix",
      "e2e-",
      "--",
      "echo",
      "hi from",
      "$(hostname)",
    );
    expect(ssh.code, ssh.stderr).toBe(0);
    expect(ssh.stdout.trim()).toMatch(/^hi from \S+$/);
    const logs = await deepconf(
      "nodes",
      "logs",
      node.name,
      "--name-prefix",
      "e2e-",
      "--lines",
      "200",
    );
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(/job .*: done/);

    const cost = await deepconf("nodes", "cost", "--name-prefix", "e2e-", "--json");
    expect(JSON.parse(cost.stdout).total_usd).toBeGreaterThan(0);

    // Ctrl-C detaches: the node keeps running; `nodes attach` holds its tunnel again.
    launch.process.kill("SIGINT");
    expect((await launch.exited).code).toBe(0);
    expect(launch.output()).toMatch(/detached from 1 node\(s\): they keep billing/);
    const attach = spawnTs("src/cli/main.ts", [
      "nodes",
      "attach",
      "--all",
      "--name-prefix",
      "e2e-",
      "--redis",
      SHARED_REDIS,
      "--prefix",
      prefix,
    ]);
    let terminate: Awaited<ReturnType<typeof deepconf>>;
    try {
      await attach.waitFor(/holding 1 node/, 60_000);
      expect(attach.output()).toContain(
        `${node.name}: tunnel up on the node's 127.0.0.1:${node.tunnel_port}`,
      );
      // Terminate while the tunnel is held: the worker hands its job back through it first.
      terminate = await deepconf("nodes", "terminate", "--all", "--name-prefix", "e2e-", "--json");
    } finally {
      attach.process.kill("SIGINT");
      await attach.exited;
    }
    expect(terminate.code, terminate.stderr).toBe(0);
    expect(JSON.parse(terminate.stdout).nodes).toEqual([
      expect.objectContaining({ id: node.id, terminated: true }),
    ]);
    expect(terminate.stderr).toMatch(/worker stopped/);
    expect(lambda.instance(node.id)?.status).toMatch(/terminat/);
    // Secrets: the HF token reached the node only in its 0600 worker.env; no output, log, run
    // directory file (manifests, predictions) or node record shows it or the API key.
    expect(readFileSync(join(remoteDir, "worker.env"), "utf8")).toContain(HF_TOKEN);
    const filesUnder = (dir: string) =>
      readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => readFileSync(join(entry.parentPath, entry.name), "utf8"));
    const outputs = [
      launch.output(),
      attach.output(),
      list.stdout,
      list.stderr,
      terminate.stderr,
      logs.stdout,
      ...filesUnder(out),
      ...filesUnder(join(remoteDir, "logs")),
      ...filesUnder(home),
    ];
    for (const text of outputs) {
      expect(text).not.toContain(API_KEY);
      expect(text).not.toContain(HF_TOKEN);
    }
  }, 420_000);
});
