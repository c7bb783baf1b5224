/**
 * The `deepconf nodes` commands as functions: the CLI parses flags and calls these. Each starts
 * from the API (reconcile) and reports through `out`; secrets are only ever passed along, never
 * printed.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExitStatus, InputError } from "../../errors.js";
import { tokenFromEnv } from "../../hf/settings.js";
import { listWorkers, QueueConnection } from "../../queue/producer.js";
import { parseRedisUrl, type RedisTarget } from "../../queue/redis.js";
import type { WorkerHeartbeat } from "../../queue/types.js";
import { SshConnection } from "../ssh/connection.js";
import { shellCommand } from "../ssh/shell.js";
import { stopWorker } from "./bootstrap.js";
import { type Bundle, buildBundle } from "./bundle.js";
import { usd } from "./cost.js";
import {
  type FleetNode,
  isEnded,
  reconcile,
  stillBillingWarning,
  terminateNodes,
} from "./fleet.js";
import { NodeHolder, openTunnel } from "./keeper.js";
import { checkLaunch, type LaunchPlan, launchNodes } from "./launch.js";
import { REMOTE } from "./remote-scripts.js";
import type { NodesSession } from "./session.js";
import { localKey, registeredKeyName } from "./ssh-key.js";

export interface NodesOutput {
  /** Results (tables, JSON) on stdout. */
  stdout: (text: string) => void;
  /** Progress lines on stderr. */
  info: (line: string) => void;
  /** Loud paragraphs on stderr (money at stake). */
  warn: (text: string) => void;
}

/** The live nodes with our prefix, reconciled; with ended ones when `all`. */
export async function fleet(session: NodesSession, prefix: string, all = false) {
  const nodes = await reconcile(session.client, session.store, prefix);
  return all ? nodes : nodes.filter((node) => !isEnded(node));
}

/** Heartbeats from our Redis, or null when none is configured or it cannot be reached. */
export async function workersIfReachable(
  redisUrl: string | undefined,
  queuePrefix: string,
): Promise<WorkerHeartbeat[] | null> {
  if (redisUrl === undefined) return null;
  const queue = await QueueConnection.open(redisUrl, {
    prefix: queuePrefix,
    timeoutMs: 2000,
  }).catch(() => null);
  if (queue === null) return null;
  try {
    return await listWorkers(queue);
  } finally {
    await queue.close();
  }
}

/** One node by name or id; an error listing the live ones otherwise. */
export function pickNode(nodes: FleetNode[], idOrName: string): FleetNode {
  const node = nodes.find((n) => n.id === idOrName || n.name === idOrName);
  if (node === undefined) {
    const names = nodes.map((n) => n.name ?? n.id).join(", ") || "none";
    throw new InputError(
      `no live node "${idOrName}" (live nodes: ${names}); see deepconf nodes list`,
    );
  }
  return node;
}

/** The fleet's JSON: the API's instance objects plus the tool's fields. */
export function nodeJson(node: FleetNode, workers: WorkerHeartbeat[] | null = null) {
  const record = node.record;
  return {
    ...(node.instance ?? {}),
    id: node.id,
    name: node.name,
    status: node.status,
    ip: node.ip,
    region: node.region,
    type: node.type,
    price_per_hour: node.priceCentsPerHour / 100,
    stage: record?.stage ?? null,
    launched_at: record?.launchedAt ?? null,
    terminated_at: record?.terminatedAt ?? null,
    uptime_s: node.uptimeMs === null ? null : Math.round(node.uptimeMs / 1000),
    cost_usd: node.costUsd === null ? null : Number(node.costUsd.toFixed(4)),
    gpu: record?.gpu ?? null,
    install: record?.install ?? null,
    tunnel_port: record?.tunnelPort ?? null,
    workers: workers?.filter((w) => node.name !== null && w.node === node.name) ?? null,
  };
}

export interface LaunchCommandOptions {
  plan: Omit<LaunchPlan, "keyName" | "keyFile" | "workerEnv">;
  sshKeyName?: string;
  sshKeyFile?: string;
  redisUrl: string;
  /** Exit after the workers are up instead of holding their tunnels. */
  detach: boolean;
  json: boolean;
  /** Aborts launching (nodes not up are terminated), or ends holding once they are up. */
  signal: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

function redisForNodes(url: string, out: NodesOutput): RedisTarget {
  const target = parseRedisUrl(url);
  if (target.tls) {
    throw new InputError(
      "rediss:// cannot go through the SSH tunnel: give the plain redis:// address",
    );
  }
  if (target.password === undefined) {
    out.warn(
      `warning: ${target.redacted} has no password: any process on the node can use the tunnelled port. Set requirepass and put the password in the URL.`,
    );
  }
  return target;
}

export async function launchCommand(
  session: NodesSession,
  options: LaunchCommandOptions,
  out: NodesOutput,
): Promise<void> {
  const { client, store, knownHosts } = session;
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s`;
  const redis = redisForNodes(options.redisUrl, out);
  const queue = await QueueConnection.open(options.redisUrl, { prefix: options.plan.queuePrefix });
  const holder = new NodeHolder({
    client,
    store,
    prefix: options.plan.namePrefix,
    queue,
    budgetUsd: options.plan.budgetUsd,
    log: (line) => out.info(`[${elapsed()}] ${line}`),
    warn: out.warn,
  });
  try {
    // The guards first: a refused launch leaves nothing behind, not even a registered key.
    const offer = await checkLaunch({ client, store, signal: options.signal }, options.plan);
    const key = localKey(options.sshKeyFile, session.home.keyFile);
    const keyName = await registeredKeyName(client, key, options.sshKeyName, options.signal);
    const hfToken = tokenFromEnv(options.env ?? process.env);
    let bundle: Promise<Bundle> | null = null;
    const plan: LaunchPlan = {
      ...options.plan,
      keyName,
      keyFile: key.file,
      workerEnv: hfToken === null ? {} : { HF_TOKEN: hfToken },
    };
    out.info(
      `[${elapsed()}] ${plan.count} x ${plan.type}, SSH key "${keyName}", API key from ${session.keySource}`,
    );
    const outcome = await launchNodes(
      {
        client,
        store,
        knownHosts,
        privateKey: key.privateKey,
        redis,
        queue,
        signal: options.signal,
        log: (line) => out.info(`[${elapsed()}] ${line}`),
        progress: (node, line) => out.info(`[${elapsed()}] ${node}: ${line}`),
        bundle: () => {
          bundle ??= buildBundle({ note: (line) => out.info(`[${elapsed()}] ${line}`) });
          return bundle;
        },
      },
      plan,
      offer,
    );
    for (const node of outcome.launched) holder.add(node.record, node.tunnel);
    const launchedJson = outcome.launched.map(({ record }) => ({
      id: record.id,
      name: record.name,
      ip: record.ip,
      region: record.region,
      type: record.type,
      price_per_hour: record.priceCentsPerHour / 100,
      status: "active",
      stage: record.stage,
    }));
    const failedJson = outcome.failed.map((f) => ({
      id: f.id,
      name: f.name,
      error: f.error,
      kept_running: f.kept,
      terminated: f.termination?.terminated ?? (f.id === null ? null : false),
    }));
    if (options.json) {
      out.stdout(`${JSON.stringify({ nodes: launchedJson, failed: failedJson }, null, 2)}\n`);
    } else {
      for (const n of launchedJson) {
        out.stdout(
          `${n.name} (${n.id}) ready: ${n.type} in ${n.region} at ${n.ip}, ${usd(n.price_per_hour)}/h\n`,
        );
      }
      for (const f of failedJson) {
        const fate =
          f.id === null
            ? "nothing was launched"
            : f.kept_running
              ? `${f.id} KEPT RUNNING (bills)`
              : f.terminated
                ? `${f.id} terminated`
                : `${f.id} MAY STILL BILL`;
        out.stdout(`${f.name}: failed (${f.error.split("\n")[0]}); ${fate}\n`);
      }
    }
    const warning = stillBillingWarning(
      outcome.failed.flatMap((f) => (f.termination === null ? [] : [f.termination])),
      (id) => store.get(id)?.priceCentsPerHour ?? null,
    );
    if (warning !== null) out.warn(warning);
    if (outcome.launched.length > 0) {
      if (options.detach) {
        out.info(
          `[${elapsed()}] detaching: the workers cannot reach Redis until \`deepconf nodes attach\` holds their tunnels; the nodes bill until \`deepconf nodes terminate\``,
        );
      } else {
        await hold(holder, options.signal, out, elapsed);
      }
    }
    if (outcome.failed.length > 0) throw new ExitStatus(1);
  } finally {
    await holder.release();
    await queue.close();
  }
}

async function hold(
  holder: NodeHolder,
  signal: AbortSignal,
  out: NodesOutput,
  elapsed: () => string,
): Promise<void> {
  out.info(
    `[${elapsed()}] holding ${holder.size} node(s): tunnels kept up, idle terminate and budget enforced. ` +
      "Ctrl-C detaches (the nodes keep running and billing; `deepconf nodes attach` resumes)",
  );
  await holder.run(signal);
  if (holder.size > 0) {
    out.warn(
      `detached from ${holder.size} node(s): they keep billing and their workers wait for \`deepconf nodes attach\`; end them with \`deepconf nodes terminate --all\``,
    );
  }
}

export interface AttachOptions {
  names: string[];
  all: boolean;
  namePrefix: string;
  queuePrefix: string;
  redisUrl: string;
  budgetUsd: number | null;
  sshKeyFile?: string;
  signal: AbortSignal;
}

/** Holds the tunnels of recorded, running nodes again (after `launch --detach` or Ctrl-C). */
export async function attachCommand(
  session: NodesSession,
  options: AttachOptions,
  out: NodesOutput,
): Promise<void> {
  const nodes = (await fleet(session, options.namePrefix)).filter(
    (n) => n.record !== null && n.status === "active",
  );
  const chosen = options.all ? nodes : options.names.map((name) => pickNode(nodes, name));
  if (chosen.length === 0)
    throw new InputError("no running node of ours to attach to (deepconf nodes list)");
  const redis = redisForNodes(options.redisUrl, out);
  const queue = await QueueConnection.open(options.redisUrl, { prefix: options.queuePrefix });
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s`;
  const log = (line: string) => out.info(`[${elapsed()}] ${line}`);
  const holder = new NodeHolder({
    client: session.client,
    store: session.store,
    prefix: options.namePrefix,
    queue,
    budgetUsd: options.budgetUsd,
    log,
    warn: out.warn,
  });
  try {
    for (const node of chosen) {
      const record = node.record as NonNullable<FleetNode["record"]>;
      const key = localKey(options.sshKeyFile ?? record.ssh.keyFile, session.home.keyFile);
      const tunnel = await openTunnel(record, {
        store: session.store,
        knownHosts: session.knownHosts,
        privateKey: key.privateKey,
        redis,
        log,
      });
      holder.add(record, tunnel);
      log(`${record.name}: tunnel up on the node's 127.0.0.1:${tunnel.remotePort}`);
    }
    await hold(holder, options.signal, out, elapsed);
  } finally {
    await holder.release();
    await queue.close();
  }
}

/** Connects to a live node of ours with its recorded user, port and key. */
export async function connectNode(
  session: NodesSession,
  node: FleetNode,
  sshKeyFile?: string,
): Promise<SshConnection> {
  if (node.ip === null)
    throw new InputError(`${node.name ?? node.id} has no IP address (status ${node.status})`);
  const record = node.record;
  const key = localKey(sshKeyFile ?? record?.ssh.keyFile, session.home.keyFile);
  return SshConnection.connect(
    {
      host: node.ip,
      port: record?.ssh.port ?? 22,
      username: record?.ssh.user ?? "ubuntu",
      privateKey: key.privateKey,
    },
    { knownHosts: session.knownHosts, hostId: node.id },
  );
}

/** `nodes ssh NAME -- CMD`: the command's output streamed; its exit status becomes ours. */
export async function sshCommand(
  session: NodesSession,
  node: FleetNode,
  command: string[],
  out: Pick<NodesOutput, "stdout"> & { stderr: (text: string) => void },
  options: { sshKeyFile?: string; signal?: AbortSignal } = {},
): Promise<void> {
  if (command.length === 0) return interactiveShell(session, node, options.sshKeyFile);
  const connection = await connectNode(session, node, options.sshKeyFile);
  try {
    // Like ssh(1): the words after -- are the remote shell's command line, as the user typed it.
    const result = await connection.exec(command.join(" "), {
      onStdout: out.stdout,
      onStderr: out.stderr,
      signal: options.signal,
    });
    if (result.code !== 0) throw new ExitStatus(result.code ?? 255);
  } finally {
    await connection.close();
  }
}

/**
 * An interactive login through the system's ssh, pinned to the recorded host key (a temporary
 * known_hosts holding only that key, strict checking on).
 */
async function interactiveShell(session: NodesSession, node: FleetNode, sshKeyFile?: string) {
  if (node.ip === null) throw new InputError(`${node.name ?? node.id} has no IP address yet`);
  const pinned = session.knownHosts.pinned(node.id);
  if (pinned === undefined) {
    throw new InputError(
      `no host key pinned for ${node.id} yet: run \`deepconf nodes ssh ${node.name ?? node.id} -- true\` once to pin it`,
    );
  }
  const record = node.record;
  const port = record?.ssh.port ?? 22;
  const key = localKey(sshKeyFile ?? record?.ssh.keyFile, session.home.keyFile);
  const dir = mkdtempSync(join(tmpdir(), "deepconf-ssh-"));
  const knownHosts = join(dir, "known_hosts");
  writeFileSync(knownHosts, `[${node.ip}]:${port} ${pinned}\n`, { mode: 0o600 });
  try {
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn(
        "ssh",
        [
          "-i",
          key.file,
          "-p",
          String(port),
          "-o",
          `UserKnownHostsFile=${knownHosts}`,
          "-o",
          "StrictHostKeyChecking=yes",
          "-o",
          "IdentitiesOnly=yes",
          `${record?.ssh.user ?? "ubuntu"}@${node.ip}`,
        ],
        { stdio: "inherit" },
      );
      child.on("error", (error) =>
        reject(
          new InputError(`cannot run ssh (${error.message}): give a command after -- instead`),
        ),
      );
      child.on("exit", (status) => resolve(status ?? 255));
    });
    if (code !== 0) throw new ExitStatus(code);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `nodes logs NAME`: the worker's log (or the supervisor's), followed until aborted. */
export async function logsCommand(
  session: NodesSession,
  node: FleetNode,
  options: { lines: number; follow: boolean; supervisor: boolean; signal: AbortSignal },
  write: (text: string) => void,
): Promise<void> {
  const record = node.record;
  if (record === null)
    throw new InputError(
      `${node.name ?? node.id} was not launched from here: its log location is unknown`,
    );
  const file = `${record.remoteDir}/${options.supervisor ? REMOTE.supervisorLog : REMOTE.workerLog}`;
  const connection = await connectNode(session, node);
  try {
    const argv = [
      "tail",
      "-n",
      String(options.lines),
      ...(options.follow ? ["-F"] : []),
      "--",
      file,
    ];
    await connection.exec(shellCommand(argv), {
      onStdout: write,
      onStderr: write,
      signal: options.signal,
    });
  } catch (error) {
    if (!options.signal.aborted) throw error;
  } finally {
    await connection.close();
  }
}

/**
 * Terminates nodes: first asks each worker of ours to hand its job back (best effort, 30 s), so
 * no shard waits for stalled-job recovery, then terminates and verifies.
 */
export async function terminateCommand(
  session: NodesSession,
  nodes: FleetNode[],
  options: { graceful: boolean },
  out: NodesOutput,
) {
  if (options.graceful) {
    await Promise.all(
      nodes
        .filter((n) => n.record?.stage === "ready" && n.status === "active")
        .map(async (node) => {
          const connection = await connectNode(session, node).catch(() => null);
          if (connection === null) return;
          try {
            await stopWorker(
              connection,
              (node.record as NonNullable<FleetNode["record"]>).remoteDir,
            );
            out.info(`${node.name}: worker stopped (its job, if any, is back in the queue)`);
          } catch (error) {
            out.info(
              `${node.name}: could not stop the worker first (${(error as Error).message.split("\n")[0]})`,
            );
          } finally {
            await connection.close();
          }
        }),
    );
  }
  const outcomes = await terminateNodes(
    session.client,
    session.store,
    nodes.map((n) => n.id),
    { log: out.info },
  );
  for (const o of outcomes) if (o.terminated) session.knownHosts.forget(o.id);
  const warning = stillBillingWarning(
    outcomes,
    (id) => nodes.find((n) => n.id === id)?.priceCentsPerHour ?? null,
  );
  if (warning !== null) out.warn(warning);
  return outcomes;
}
