/**
 * openTunnel against a real sshd: when the node's recorded tunnel port is still held (the old
 * session has not let go of it), the tunnel comes up on a new port, the node's redis.env is
 * rewritten to point at it (with the Redis password and database, mode 0600), and the worker
 * is restarted so it reads it; the same port again changes nothing on the node.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { nodeRedisUrl, openTunnel } from "../../src/cloud/nodes/keeper.js";
import { REMOTE } from "../../src/cloud/nodes/remote-scripts.js";
import { type NodeRecord, NodeStore } from "../../src/cloud/nodes/state.js";
import { KnownHosts } from "../../src/cloud/ssh/known-hosts.js";
import { parseRedisUrl } from "../../src/queue/redis.js";
import { until } from "../support/queue.js";
import { type Sshd, startSshd } from "../support/sshd.js";
import { testTempDir } from "../support/tiny-model.js";

let sshd: Sshd;
beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.dispose();
});

test("nodeRedisUrl keeps the credentials and database, on the node's loopback", () => {
  const target = parseRedisUrl("redis://user:p%40ss@10.0.0.5:6380/3");
  expect(nodeRedisUrl(target, 40123)).toBe("redis://user:p%40ss@127.0.0.1:40123/3");
  expect(nodeRedisUrl(parseRedisUrl("redis://127.0.0.1:6379"), 7)).toBe("redis://127.0.0.1:7/0");
});

test("a held port: a new one, redis.env rewritten (0600) and the worker restarted", async () => {
  const root = testTempDir("keeper-");
  const remoteDir = join(root, "node");
  mkdirSync(remoteDir);
  // What holds the node's old port (the node is this machine).
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
  const held = (holder.address() as { port: number }).port;
  // The "worker": a process whose pid is in worker.pid, ended by the restart.
  const worker = spawn("sleep", ["60"], { stdio: "ignore" });
  const workerExit = new Promise<NodeJS.Signals | null>((resolve) =>
    worker.once("exit", (_code, signal) => resolve(signal)),
  );
  writeFileSync(join(remoteDir, REMOTE.workerPid), `${worker.pid}\n`);
  const store = new NodeStore(join(root, "nodes.json"));
  const record: NodeRecord = {
    id: "instance-keeper",
    name: "deepconf-keeper",
    type: "gpu_1x_a10",
    region: "us-west-1",
    priceCentsPerHour: 75,
    launchedAt: new Date().toISOString(),
    terminatedAt: null,
    stage: "ready",
    ip: sshd.host,
    ssh: { user: sshd.username, port: sshd.port, keyFile: "unused" },
    remoteDir,
    device: "cpu",
    queuePrefix: "deepconf",
    tunnelPort: held,
    idleTerminateMs: null,
    gpu: null,
    install: null,
    readyAt: null,
    error: null,
  };
  store.put(record);
  const redis = parseRedisUrl("redis://:s3cret@127.0.0.1:6379/2");
  const lines: string[] = [];
  const context = {
    store,
    knownHosts: new KnownHosts(join(root, "known_hosts")),
    privateKey: Buffer.from(sshd.privateKey),
    redis,
    log: (line: string) => lines.push(line),
  };
  const tunnel = await openTunnel(record, context);
  try {
    const port = tunnel.remotePort as number;
    expect(port).not.toBe(held);
    expect(store.get(record.id)?.tunnelPort).toBe(port);
    const envPath = join(remoteDir, REMOTE.redisEnv);
    expect(readFileSync(envPath, "utf8")).toBe(`REDIS_URL=redis://:s3cret@127.0.0.1:${port}/2\n`);
    expect(statSync(envPath).mode & 0o777).toBe(0o600);
    expect(await workerExit).toBe("SIGTERM");
    expect(lines.join("\n")).toMatch(
      new RegExp(`tunnel moved to port ${port}; restarting the worker to use it`),
    );
    // No password or token in what the keeper says.
    expect(lines.join("\n")).not.toContain("s3cret");
  } finally {
    await tunnel.stop();
    worker.kill("SIGKILL");
    await new Promise((resolve) => holder.close(resolve));
  }

  // Attaching again with the port now recorded: bound on it, nothing rewritten or restarted.
  writeFileSync(join(remoteDir, REMOTE.redisEnv), "untouched\n");
  const again = await openTunnel(store.get(record.id) as NodeRecord, context);
  try {
    await until(() => again.remotePort !== null);
    expect(again.remotePort).toBe(store.get(record.id)?.tunnelPort);
    expect(readFileSync(join(remoteDir, REMOTE.redisEnv), "utf8")).toBe("untouched\n");
  } finally {
    await again.stop();
  }
});
