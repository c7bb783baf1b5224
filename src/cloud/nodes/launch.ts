/**
 * `nodes launch`, stage by stage: capacity check -> launch (failing over across regions with
 * capacity) -> active with an IP -> SSH answers -> GPU probe -> bootstrap -> tunnel -> worker
 * running -> its heartbeat arrives in our Redis. Any failure or abort before that terminates the
 * node (unless keepOnFailure), and the outcome says whether it was.
 */
import { randomBytes } from "node:crypto";
import { InputError } from "../../errors.js";
import { listWorkers, type QueueConnection } from "../../queue/producer.js";
import type { LambdaClient } from "../lambda/client.js";
import { LambdaApiError } from "../lambda/errors.js";
import type { InstanceTypeOffer } from "../lambda/types.js";
import type { SshConnection } from "../ssh/connection.js";
import { waitForSsh } from "../ssh/ready.js";
import { shellCommand } from "../ssh/shell.js";
import type { TunnelKeeper } from "../ssh/tunnel.js";
import { type BootstrapResult, bootstrapNode, probeGpu, startWorker } from "./bootstrap.js";
import type { Bundle } from "./bundle.js";
import { usd } from "./cost.js";
import { isEnded, reconcile, type TerminateOutcome, terminateNodes } from "./fleet.js";
import { openTunnel, type TunnelContext } from "./keeper.js";
import { REMOTE } from "./remote-scripts.js";
import type { NodeRecord, NodeStage } from "./state.js";

const MAX_NAME_LENGTH = 64;

export interface LaunchPlan {
  type: string;
  /** null: any region with capacity, in the API's order. */
  region: string | null;
  count: number;
  namePrefix: string;
  /** The Lambda SSH key name to launch with (registered, matching the private key). */
  keyName: string;
  keyFile: string;
  sshUser: string;
  sshPort: number;
  remoteDir: string;
  device: "cuda" | "cpu";
  /** The worker's --max-rows (traces decoding at once); null: its default. */
  maxRows: number | null;
  queuePrefix: string;
  idleTerminateMs: number | null;
  maxHourlyUsd: number | null;
  budgetUsd: number | null;
  keepOnFailure: boolean;
  /** Bounds the wait for active + SSH (default 15 min). */
  readyTimeoutMs: number;
  /** Bounds the wait for the worker's first heartbeat after it starts. */
  workerTimeoutMs: number;
  pull: Array<{ model: string; dtype: string }>;
  /** Written to the node's 0600 worker.env. */
  workerEnv: Record<string, string>;
  nodeDistUrl?: string;
}

export interface LaunchContext extends TunnelContext {
  client: LambdaClient;
  queue: QueueConnection;
  bundle: () => Promise<Bundle>;
  signal: AbortSignal;
  /** Stage lines, prefixed with the node's name and the elapsed time by the caller. */
  progress: (node: string, line: string) => void;
  /** How often instance status is polled (default 5 s). */
  pollMs?: number;
  terminate?: { attempts?: number; delayMs?: number };
}

export interface LaunchedNode {
  record: NodeRecord;
  tunnel: TunnelKeeper;
}

export interface FailedNode {
  name: string;
  /** null when no instance was launched. */
  id: string | null;
  error: string;
  /** null when there was nothing to terminate, or keepOnFailure left it running. */
  termination: TerminateOutcome | null;
  kept: boolean;
}

export interface LaunchOutcome {
  launched: LaunchedNode[];
  failed: FailedNode[];
}

/** Letters, digits, dot, dash, underscore; room for the 6 random characters within 64. */
function checkNamePrefix(prefix: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(prefix)) {
    throw new InputError(
      `--name-prefix "${prefix}" may hold only letters, digits, ".", "-" and "_" (and start with a letter or digit)`,
    );
  }
  if (prefix.length + 6 > MAX_NAME_LENGTH) {
    throw new InputError(
      `--name-prefix is too long: node names are at most ${MAX_NAME_LENGTH} characters`,
    );
  }
}

/** Checks the plan against the catalogue and the cost guards; returns the offer. */
export async function checkLaunch(
  context: Pick<LaunchContext, "client" | "store" | "signal">,
  plan: Pick<LaunchPlan, "type" | "region" | "count" | "namePrefix" | "maxHourlyUsd" | "budgetUsd">,
): Promise<InstanceTypeOffer> {
  const { client, store, signal } = context;
  const offers = await client.instanceTypes(signal);
  const offer = offers.find((o) => o.name === plan.type);
  if (offer === undefined) {
    throw new InputError(
      `Lambda has no instance type "${plan.type}"; see \`deepconf nodes types\` (e.g. ${offers
        .slice(0, 3)
        .map((o) => o.name)
        .join(", ")})`,
    );
  }
  const regions = offer.regions_with_capacity_available.map((r) => r.name);
  if (regions.length === 0) {
    throw new InputError(
      `no region has capacity for ${plan.type} right now; try another type (\`deepconf nodes types\` lists what is available) or later`,
    );
  }
  if (plan.region !== null && !regions.includes(plan.region)) {
    throw new InputError(
      `${plan.type} has no capacity in ${plan.region} right now; regions with capacity: ${regions.join(", ")} (or --any-region)`,
    );
  }
  checkNamePrefix(plan.namePrefix);
  const price = offer.price_cents_per_hour / 100;
  const fleet = (await reconcile(client, store, plan.namePrefix, { signal })).filter(
    (node) => !isEnded(node) && node.status !== "terminating",
  );
  const running = fleet.reduce((sum, node) => sum + node.priceCentsPerHour / 100, 0);
  const hourly = running + plan.count * price;
  if (plan.maxHourlyUsd !== null && hourly > plan.maxHourlyUsd + 1e-9) {
    throw new InputError(
      `launching ${plan.count} x ${plan.type} at ${usd(price)}/h would bring the fleet to ${usd(hourly)}/h ` +
        `(${fleet.length} node(s) already at ${usd(running)}/h), over --max-hourly ${usd(plan.maxHourlyUsd)}`,
    );
  }
  if (plan.budgetUsd !== null) {
    const spent = fleet.reduce((sum, node) => sum + (node.costUsd ?? 0), 0);
    if (spent >= plan.budgetUsd) {
      throw new InputError(
        `the running nodes have already cost ${usd(spent)}, at or over --budget ${usd(plan.budgetUsd)}: nothing launched`,
      );
    }
  }
  return offer;
}

/**
 * Launches plan.count nodes in parallel (the client spaces the launch calls); `checked` is
 * checkLaunch's answer when the caller has already run the guards.
 */
export async function launchNodes(
  context: LaunchContext,
  plan: LaunchPlan,
  checked?: InstanceTypeOffer,
): Promise<LaunchOutcome> {
  const offer = checked ?? (await checkLaunch(context, plan));
  const results = await Promise.all(
    Array.from({ length: plan.count }, () => launchOne(context, plan, offer)),
  );
  return {
    launched: results.filter((r): r is LaunchedNode => "tunnel" in r),
    failed: results.filter((r): r is FailedNode => !("tunnel" in r)),
  };
}

async function launchOne(
  context: LaunchContext,
  plan: LaunchPlan,
  offer: InstanceTypeOffer,
): Promise<LaunchedNode | FailedNode> {
  const { client, store, signal } = context;
  const name = `${plan.namePrefix}${randomBytes(3).toString("hex")}`;
  const say = (line: string) => context.progress(name, line);
  let record: NodeRecord | null = null;
  let tunnel: TunnelKeeper | null = null;
  let ssh: SshConnection | null = null;
  const stage = (next: NodeStage, line: string) => {
    if (record !== null) record = store.update(record.id, { stage: next }) ?? record;
    say(line);
  };
  try {
    const id = await launchInstance(context, plan, offer, name, say);
    record = store.put({
      id: id.id,
      name,
      type: plan.type,
      region: id.region,
      priceCentsPerHour: offer.price_cents_per_hour,
      launchedAt: new Date().toISOString(),
      terminatedAt: null,
      stage: "booting",
      ip: null,
      ssh: { user: plan.sshUser, port: plan.sshPort, keyFile: plan.keyFile },
      remoteDir: plan.remoteDir,
      device: plan.device,
      queuePrefix: plan.queuePrefix,
      tunnelPort: null,
      idleTerminateMs: plan.idleTerminateMs,
      gpu: null,
      install: null,
      readyAt: null,
      error: null,
    });
    say(
      `launched ${id.id} in ${id.region} (${usd(offer.price_cents_per_hour / 100)}/h, billing from now)`,
    );

    const ip = await waitActive(context, record, plan.readyTimeoutMs);
    record = store.update(record.id, { ip }) ?? record;
    stage("waiting-ssh", `active at ${ip}; waiting for SSH`);
    ssh = await waitForSsh(
      { host: ip, port: plan.sshPort, username: plan.sshUser, privateKey: context.privateKey },
      {
        knownHosts: context.knownHosts,
        hostId: record.id,
        timeoutMs: plan.readyTimeoutMs,
        signal,
        onAttempt: (n, last) => {
          if (n === 2 || n % 5 === 0)
            say(`SSH not ready yet (try ${n}: ${last?.message ?? "no answer"})`);
        },
      },
    );
    stage("probing-gpu", "SSH ready; probing the GPU");
    try {
      const gpu = await probeGpu(ssh, signal);
      record = store.update(record.id, { gpu }) ?? record;
      say(
        `GPU: ${gpu.count} x ${gpu.name}, ${gpu.memoryMiB ?? "?"} MiB, driver ${gpu.driver ?? "?"}, CUDA ${gpu.cuda ?? "?"}`,
      );
    } catch (error) {
      if (plan.device === "cuda") throw error;
      say(
        `no usable GPU (${(error as Error).message.split("\n")[0]}); the worker runs on CPU as asked`,
      );
    }

    stage("bootstrapping", "bootstrapping");
    const boot: BootstrapResult = await bootstrapNode(ssh, {
      remoteDir: plan.remoteDir,
      bundle: await context.bundle(),
      device: plan.device,
      nodeDistUrl: plan.nodeDistUrl,
      env: plan.workerEnv,
      pull: plan.pull,
      signal,
      note: say,
    });
    record = store.update(record.id, { remoteDir: boot.dir, install: boot.install }) ?? record;

    tunnel = await openTunnel(record, context);
    record = store.get(record.id) ?? record;
    stage(
      "starting-worker",
      `tunnel up (node 127.0.0.1:${record.tunnelPort} -> our Redis); starting the worker`,
    );
    await startWorker(ssh, boot.dir, boot.nodeBin, [
      "--device",
      plan.device,
      "--prefix",
      plan.queuePrefix,
      "--node",
      name,
      ...(plan.maxRows === null ? [] : ["--max-rows", String(plan.maxRows)]),
    ]);
    await waitWorker(context, ssh, record, plan.workerTimeoutMs);
    record =
      store.update(record.id, { stage: "ready", readyAt: new Date().toISOString() }) ?? record;
    say("worker connected: ready");
    await ssh.close();
    return { record, tunnel };
  } catch (error) {
    const message = signal.aborted ? "interrupted" : (error as Error).message;
    await ssh?.close().catch(() => undefined);
    await tunnel?.stop().catch(() => undefined);
    if (record === null) return { name, id: null, error: message, termination: null, kept: false };
    record = store.update(record.id, { stage: "failed", error: message }) ?? record;
    if (plan.keepOnFailure) {
      say(
        `failed (${message}); kept running as asked (--keep-on-failure): it bills until terminated`,
      );
      return { name, id: record.id, error: message, termination: null, kept: true };
    }
    say(`failed (${message.split("\n")[0]}); terminating ${record.id}`);
    const [termination] = await terminateNodes(client, store, [record.id], {
      ...context.terminate,
      log: say,
    });
    return { name, id: record.id, error: message, termination: termination ?? null, kept: false };
  }
}

/** One launch call per region with capacity until one takes; the id is returned at once. */
async function launchInstance(
  context: LaunchContext,
  plan: LaunchPlan,
  offer: InstanceTypeOffer,
  name: string,
  say: (line: string) => void,
): Promise<{ id: string; region: string }> {
  const { client, signal } = context;
  const regions =
    plan.region !== null ? [plan.region] : offer.regions_with_capacity_available.map((r) => r.name);
  const refused: string[] = [];
  for (const region of regions) {
    signal.throwIfAborted();
    say(`launching ${plan.type} in ${region}`);
    try {
      const [id] = await client.launch(
        {
          region_name: region,
          instance_type_name: plan.type,
          ssh_key_names: [plan.keyName],
          name,
        },
        signal,
      );
      if (id === undefined) throw new Error("the launch answer held no instance id");
      return { id, region };
    } catch (error) {
      if (error instanceof LambdaApiError && error.maybeLaunched) {
        // The answer was lost, not necessarily the launch: look for the node by its name.
        const found = (await client.listInstances(signal)).find((i) => i.name === name);
        if (found !== undefined) return { id: found.id, region: found.region.name };
      }
      if (
        error instanceof LambdaApiError &&
        error.code === "instance-operations/launch/insufficient-capacity"
      ) {
        refused.push(region);
        say(`no capacity in ${region} after all`);
        continue;
      }
      throw error;
    }
  }
  throw new InputError(
    `no capacity for ${plan.type} in ${refused.join(", ")}: try --any-region, another type (\`deepconf nodes types\`) or later`,
  );
}

const FAILED_STATUSES = new Set(["unhealthy", "terminating", "terminated", "preempted"]);

async function waitActive(context: LaunchContext, record: NodeRecord, timeoutMs: number) {
  const { client, signal } = context;
  const deadline = Date.now() + timeoutMs;
  const every = context.pollMs ?? 5000;
  let last = "booting";
  for (;;) {
    signal.throwIfAborted();
    const instance = await client.getInstance(record.id, signal);
    if (instance === null) throw new Error(`${record.id} disappeared while booting`);
    if (FAILED_STATUSES.has(instance.status)) {
      throw new Error(`${record.id} became ${instance.status} while booting`);
    }
    if (instance.status === "active" && instance.ip) return instance.ip;
    if (instance.status !== last) {
      last = instance.status;
      context.progress(
        record.name,
        `status ${instance.status}${instance.ip ? "" : " (no IP yet)"}`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${record.id} not active with an IP after ${Math.round(timeoutMs / 60_000)} min (status ${instance.status}); --ready-timeout sets the limit`,
      );
    }
    await new Promise<void>((resolve) => setTimeout(resolve, every));
  }
}

/** Until the worker's heartbeat (tagged with the node's name) arrives in our Redis. */
async function waitWorker(
  context: LaunchContext,
  ssh: SshConnection,
  record: NodeRecord,
  timeoutMs: number,
): Promise<void> {
  const { signal, queue } = context;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signal.throwIfAborted();
    const workers = await listWorkers(queue);
    if (workers.some((w) => w.node === record.name)) return;
    if (Date.now() > deadline) {
      const log = await ssh
        .exec(shellCommand(["tail", "-n", "15", `${record.remoteDir}/${REMOTE.workerLog}`]))
        .then((r) => r.stdout.trim())
        .catch(() => "");
      throw new Error(
        `the worker on ${record.name} did not reach our Redis within ${Math.round(timeoutMs / 1000)} s` +
          (log ? `; the end of its log:\n${log}` : ""),
      );
    }
    await new Promise<void>((resolve) => setTimeout(resolve, 500));
  }
}
