/**
 * Holding nodes after launch: each node's reverse tunnel to the orchestrator's Redis (re-bound
 * after every drop, the worker pointed at a new port when the old one is held), and the cost
 * guards that need a running process: idle terminate and the budget. `nodes launch` holds its
 * nodes this way until Ctrl-C; `nodes attach` picks recorded nodes up again.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { QueueConnection } from "../../queue/producer.js";
import { listWorkers } from "../../queue/producer.js";
import type { RedisTarget } from "../../queue/redis.js";
import type { LambdaClient } from "../lambda/client.js";
import type { Clock } from "../lambda/clock.js";
import type { KnownHosts } from "../ssh/known-hosts.js";
import { TunnelKeeper } from "../ssh/tunnel.js";
import { restartWorker, writeRedisEnv } from "./bootstrap.js";
import { costUsd, duration, usd } from "./cost.js";
import { reconcile, stillBillingWarning, terminateNodes } from "./fleet.js";
import type { NodeRecord, NodeStore } from "./state.js";

export interface TunnelContext {
  store: NodeStore;
  knownHosts: KnownHosts;
  privateKey: Buffer;
  /** The orchestrator's Redis, as the worker would reach it from here. */
  redis: RedisTarget;
  log: (line: string) => void;
  keepaliveIntervalMs?: number;
  reconnectDelayMs?: number;
}

/** The worker's Redis URL on the node: this Redis's credentials and database, the tunnel's port. */
export function nodeRedisUrl(target: RedisTarget, port: number): string {
  const user = target.username === undefined ? "" : encodeURIComponent(target.username);
  const auth =
    target.password === undefined
      ? user
        ? `${user}@`
        : ""
      : `${user}:${encodeURIComponent(target.password)}@`;
  return `redis://${auth}127.0.0.1:${port}/${target.db}`;
}

/** Worker stages: a re-bound tunnel must restart the worker so it reads the new port. */
const WORKER_RUNNING = new Set<NodeRecord["stage"]>(["starting-worker", "ready"]);

/**
 * Opens `record`'s tunnel (its recorded port first). Each bind records the port; a port that
 * differs from the node's redis.env rewrites it and restarts the worker.
 */
export async function openTunnel(
  record: NodeRecord,
  context: TunnelContext,
): Promise<TunnelKeeper> {
  const { store, log } = context;
  if (record.ip === null) throw new Error(`${record.name} has no IP address yet`);
  const keeper: TunnelKeeper = new TunnelKeeper({
    target: {
      host: record.ip,
      port: record.ssh.port,
      username: record.ssh.user,
      privateKey: context.privateKey,
    },
    knownHosts: context.knownHosts,
    hostId: record.id,
    localHost: context.redis.host,
    localPort: context.redis.port,
    preferredRemotePort: record.tunnelPort ?? undefined,
    keepaliveIntervalMs: context.keepaliveIntervalMs,
    reconnectDelayMs: context.reconnectDelayMs,
    log: (line) => log(`${record.name}: ${line}`),
    onDown: (reason) => log(`${record.name}: connection lost (${reason}); reconnecting`),
    onBound: async (port) => {
      const current = store.get(record.id) ?? record;
      if (current.tunnelPort === port) {
        log(`${record.name}: tunnel re-bound on the node's 127.0.0.1:${port}`);
        return;
      }
      const connection = keeper.connection;
      if (connection === null) return;
      await writeRedisEnv(connection, current.remoteDir, nodeRedisUrl(context.redis, port));
      store.update(record.id, { tunnelPort: port });
      if (WORKER_RUNNING.has(current.stage)) {
        log(`${record.name}: tunnel moved to port ${port}; restarting the worker to use it`);
        await restartWorker(connection, current.remoteDir);
      }
    },
  });
  await keeper.start();
  return keeper;
}

export interface HolderOptions {
  client: LambdaClient;
  store: NodeStore;
  /** The fleet's name prefix (each check reconciles with the API first). */
  prefix: string;
  /** Heartbeats for idle terminate; null: idle terminate is off. */
  queue: QueueConnection | null;
  /** Terminate every held node once their cost together reaches this. */
  budgetUsd: number | null;
  /** How often idle and budget are checked (default 30 s). */
  checkMs?: number;
  clock?: Clock;
  log: (line: string) => void;
  /** Loud lines (nodes that may still bill). */
  warn: (text: string) => void;
}

interface Held {
  id: string;
  tunnel: TunnelKeeper;
  since: number;
}

/** Holds tunnels and enforces idle terminate and the budget until stopped or no node is left. */
export class NodeHolder {
  private readonly held = new Map<string, Held>();

  constructor(private readonly options: HolderOptions) {}

  add(record: NodeRecord, tunnel: TunnelKeeper): void {
    this.held.set(record.id, { id: record.id, tunnel, since: Date.now() });
  }

  get size(): number {
    return this.held.size;
  }

  /** Checks every checkMs until `signal` aborts or every held node has ended. */
  async run(signal: AbortSignal): Promise<void> {
    const every = this.options.checkMs ?? 30_000;
    while (!signal.aborted && this.held.size > 0) {
      await sleep(every, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) break;
      await this.check().catch((error: Error) =>
        this.options.log(`check failed: ${error.message}`),
      );
    }
  }

  /** Closes every tunnel; the nodes keep running (and billing). */
  async release(): Promise<void> {
    await Promise.all([...this.held.values()].map((h) => h.tunnel.stop()));
    this.held.clear();
  }

  /** One round of the guards (exposed for tests). */
  async check(now = Date.now()): Promise<void> {
    const { client, store, prefix, log } = this.options;
    // A node ended elsewhere (console, another terminal) is no longer held.
    await reconcile(client, store, prefix, { now });
    const records = [...this.held.keys()]
      .map((id) => store.get(id))
      .filter((r): r is NodeRecord => r !== undefined);
    const ended = records.filter((r) => r.stage === "terminated" || r.stage === "terminating");
    for (const record of ended) await this.drop(record.id);

    const live = records.filter((r) => !ended.includes(r));
    const { budgetUsd } = this.options;
    if (budgetUsd !== null) {
      const spent = live.reduce(
        (sum, r) => sum + costUsd(r.priceCentsPerHour, Date.parse(r.launchedAt), now),
        0,
      );
      if (spent >= budgetUsd) {
        log(
          `budget ${usd(budgetUsd)} reached (${usd(spent)} spent): terminating ${live.length} node(s)`,
        );
        await this.terminate(live.map((r) => r.id));
        return;
      }
    }
    const idle = await this.idleNodes(live, now);
    if (idle.length > 0) await this.terminate(idle);
  }

  private async idleNodes(records: NodeRecord[], now: number): Promise<string[]> {
    const { queue, log } = this.options;
    const watched = records.filter((r) => r.idleTerminateMs !== null);
    if (watched.length === 0 || queue === null) return [];
    const workers = await listWorkers(queue);
    const idle: string[] = [];
    for (const record of watched) {
      const mine = workers.filter((w) => w.node === record.name);
      const held = this.held.get(record.id);
      let lastWork = Math.max(held?.since ?? now, Date.parse(record.readyAt ?? record.launchedAt));
      for (const worker of mine) {
        lastWork = Math.max(
          lastWork,
          worker.state === "busy" ? now : Date.parse(worker.lastWorkAt),
        );
      }
      const limit = record.idleTerminateMs as number;
      if (now - lastWork >= limit) {
        log(
          `${record.name}: no work for ${duration(now - lastWork)} (idle terminate ${duration(limit)}): terminating`,
        );
        idle.push(record.id);
      }
    }
    return idle;
  }

  private async terminate(ids: string[]): Promise<void> {
    const { client, store, clock, log, warn } = this.options;
    for (const id of ids) await this.drop(id);
    const outcomes = await terminateNodes(client, store, ids, { clock, log });
    for (const outcome of outcomes.filter((o) => o.terminated)) {
      log(`${outcome.name ?? outcome.id}: terminated`);
    }
    const warning = stillBillingWarning(outcomes, (id) => store.get(id)?.priceCentsPerHour ?? null);
    if (warning !== null) warn(warning);
  }

  private async drop(id: string): Promise<void> {
    const held = this.held.get(id);
    this.held.delete(id);
    await held?.tunnel.stop();
  }
}
