/**
 * Reverse tunnels against a real sshd: the node (this machine, through sshd) reaches the local
 * Redis on 127.0.0.1:6379 through the tunnel (only PING is sent, no keys are touched), and
 * TunnelKeeper survives a reset link, a dead link (keepalive) and a changed host key.
 */
import { connect, createServer, type Server } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { SshConnection } from "../../src/cloud/ssh/connection.js";
import { HostKeyChangedError, KnownHosts } from "../../src/cloud/ssh/known-hosts.js";
import { TunnelKeeper, type TunnelKeeperOptions } from "../../src/cloud/ssh/tunnel.js";
import { freePort } from "../support/ports.js";
import { type Sshd, type SshdOptions, startSshd } from "../support/sshd.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";
import { testTempDir } from "../support/tiny-model.js";

const REDIS_PORT = 6379;

/** PING over bash's /dev/tcp on the node: Redis answers "+PONG". */
const PING = `exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'PING\\r\\n' >&3 &&
  IFS= read -r -t 5 reply <&3 && printf '%s' "\${reply%$'\\r'}"`;

async function pingFromNode(node: SshConnection, port: number): Promise<string> {
  return (await node.check(["bash", "-c", PING, "ping", String(port)])).stdout;
}

/** Everything a test starts, stopped afterwards in reverse order. */
const cleanups: (() => Promise<unknown> | undefined)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function sshd(options: SshdOptions = {}): Promise<Sshd> {
  const server = await startSshd({ dir: testTempDir(), ...options });
  cleanups.push(() => server.dispose());
  return server;
}

async function proxyTo(server: Sshd): Promise<TcpProxy> {
  const proxy = await startTcpProxy(server.host, server.port);
  cleanups.push(() => proxy.close());
  return proxy;
}

/** A second, direct connection: the node's side, where the worker would run. */
async function nodeShell(server: Sshd, knownHosts: KnownHosts): Promise<SshConnection> {
  const shell = await SshConnection.connect(server, { knownHosts, hostId: "node" });
  cleanups.push(() => shell.close());
  return shell;
}

interface Keeper {
  keeper: TunnelKeeper;
  bound: [number, boolean][];
  down: string[];
  log: string[];
}

function keeperFor(
  target: { host: string; port: number; username: string; privateKey: string },
  knownHosts: KnownHosts,
  options: Partial<TunnelKeeperOptions> = {},
): Keeper {
  const record: Omit<Keeper, "keeper"> = { bound: [], down: [], log: [] };
  const keeper = new TunnelKeeper({
    target,
    knownHosts,
    hostId: "node",
    localHost: "127.0.0.1",
    localPort: REDIS_PORT,
    keepaliveIntervalMs: 250,
    keepaliveCountMax: 2,
    readyTimeoutMs: 3000,
    reconnectDelayMs: 100,
    maxReconnectDelayMs: 400,
    onBound: (port, isNew) => {
      record.bound.push([port, isNew]);
    },
    onDown: (reason) => record.down.push(reason),
    log: (line) => record.log.push(line),
    ...options,
  });
  cleanups.push(() => keeper.stop());
  return { keeper, ...record };
}

/** The handles in `now` beyond those in `before` (by kind: "Timeout", "TCPSocketWrap", ...). */
function leftOver(before: string[], now: string[]): string[] {
  const remaining = [...before];
  return now.filter((kind) => {
    const index = remaining.indexOf(kind);
    if (index === -1) return true;
    remaining.splice(index, 1);
    return false;
  });
}

/** What is left beyond `before` once it is empty or 2 s have passed (polled with one timer). */
async function settledLeftOver(before: string[]): Promise<string[]> {
  for (let waited = 0; ; waited += 50) {
    const left = leftOver(before, process.getActiveResourcesInfo());
    if (left.length === 0 || waited >= 2000) return left;
    await sleep(50);
  }
}

function newKnownHosts(): KnownHosts {
  return new KnownHosts(join(testTempDir(), "known_hosts"));
}

describe("forwardIn", () => {
  it("lets the node reach the local Redis through 127.0.0.1 on its side", async () => {
    const server = await sshd();
    const shell = await nodeShell(server, newKnownHosts());
    const port = await shell.forwardIn(0, () => connect(REDIS_PORT, "127.0.0.1"));
    expect(port).toBeGreaterThan(0);
    expect(await pingFromNode(shell, port)).toBe("+PONG");
    expect(await pingFromNode(shell, port)).toBe("+PONG");
  });

  it("closes the node's side when the local service is down, and stays usable", async () => {
    const server = await sshd();
    const shell = await nodeShell(server, newKnownHosts());
    const dead = await freePort();
    const port = await shell.forwardIn(0, () => connect(dead, "127.0.0.1"));
    const result = await shell.run(["bash", "-c", PING, "ping", String(port)]);
    expect(result.code).not.toBe(0);
    expect((await shell.exec("echo still here")).stdout).toBe("still here\n");
  });
});

describe("TunnelKeeper", () => {
  it("reconnects after the link is reset and the node reaches Redis again", async () => {
    const server = await sshd();
    const proxy = await proxyTo(server);
    const knownHosts = newKnownHosts();
    const shell = await nodeShell(server, knownHosts);
    const resourcesBefore = process.getActiveResourcesInfo();
    const { keeper, bound, down, log } = keeperFor({ ...server, port: proxy.port }, knownHosts);

    const first = await keeper.start();
    expect(bound).toEqual([[first, true]]);
    expect(keeper.remotePort).toBe(first);
    expect(await pingFromNode(shell, first)).toBe("+PONG");

    const rebound = keeper.nextBound();
    proxy.cutAll();
    const second = await rebound;
    expect(down).toHaveLength(1);
    expect(log.some((line) => line.includes("reconnect attempt 1"))).toBe(true);
    // sshd usually frees the old port before we ask again; if not, the new one was reported.
    expect(bound).toEqual([
      [first, true],
      [second, second !== first],
    ]);
    expect(keeper.connection?.closed).toBe(false);
    expect(await pingFromNode(shell, second)).toBe("+PONG");

    await keeper.stop();
    expect(keeper.connection).toBeNull();
    await expect(keeper.nextBound()).rejects.toThrow(/stopped/);
    // No timer or socket of the keeper's is left behind: no more of either than before it.
    expect(await settledLeftOver(resourcesBefore)).toEqual([]);
  });

  it("takes a new port when a dead link's session still holds the old one", async () => {
    // sshd checks its clients only every 60 s here, so the dead session keeps its port.
    const server = await sshd({ clientAliveIntervalS: 60 });
    const proxy = await proxyTo(server);
    const knownHosts = newKnownHosts();
    const shell = await nodeShell(server, knownHosts);
    const { keeper, bound, down, log } = keeperFor({ ...server, port: proxy.port }, knownHosts);

    const first = await keeper.start();
    const rebound = keeper.nextBound();
    proxy.blackholeAll();
    const second = await rebound;
    expect(down[0]).toMatch(/keepalive timeout/i);
    expect(second).not.toBe(first);
    expect(bound).toEqual([
      [first, true],
      [second, true],
    ]);
    expect(log.some((line) => line.includes(`port ${first} refused`))).toBe(true);
    expect(await pingFromNode(shell, second)).toBe("+PONG");
  });

  it("starts on the preferred port, or on a new one when something holds it", async () => {
    const server = await sshd();
    const knownHosts = newKnownHosts();
    const shell = await nodeShell(server, knownHosts);

    const free = await freePort();
    const onFree = keeperFor(server, knownHosts, { preferredRemotePort: free });
    expect(await onFree.keeper.start()).toBe(free);
    expect(onFree.bound).toEqual([[free, false]]);
    await onFree.keeper.stop();

    // The node is this machine, so a listener here holds the port on the node.
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise((resolve) => holder.close(resolve)));
    const held = (holder.address() as { port: number }).port;
    const onHeld = keeperFor(server, knownHosts, { preferredRemotePort: held });
    const port = await onHeld.keeper.start();
    expect(port).not.toBe(held);
    expect(onHeld.bound).toEqual([[port, true]]);
    expect(await pingFromNode(shell, port)).toBe("+PONG");
  });

  it("gives up, and says why, when the node comes back with another host key", async () => {
    const server = await sshd();
    const proxy = await proxyTo(server);
    const { keeper, down } = keeperFor({ ...server, port: proxy.port }, newKnownHosts());
    await keeper.start();

    const rebound = keeper.nextBound();
    server.regenerateHostKey();
    await server.restart();
    await expect(rebound).rejects.toBeInstanceOf(HostKeyChangedError);
    expect(down.at(-1)).toMatch(/host key of node changed/);
    expect(keeper.connection).toBeNull();
    await expect(keeper.nextBound()).rejects.toBeInstanceOf(HostKeyChangedError);
  });
});
