/**
 * The nodes as the API sees them, joined with the tool's records: GET /instances is the truth
 * about what exists and bills, and every `deepconf nodes` command starts by reconciling with it.
 * Also the one way nodes end: terminate, re-read, retry, and say loudly what may still bill.
 */

import type { LambdaClient } from "../lambda/client.js";
import type { Clock } from "../lambda/clock.js";
import { LambdaApiError } from "../lambda/errors.js";
import type { Instance, InstanceStatus } from "../lambda/types.js";
import { costUsd, usd } from "./cost.js";
import type { NodeRecord, NodeStore } from "./state.js";

export interface FleetNode {
  id: string;
  /** null for console launches without a name. */
  name: string | null;
  /** The API's status; "gone" once the API no longer lists the node. */
  status: InstanceStatus | "gone";
  ip: string | null;
  region: string;
  type: string;
  priceCentsPerHour: number;
  /** The tool's record; null for a node with our name prefix that this machine did not launch. */
  record: NodeRecord | null;
  instance: Instance | null;
  /** From the recorded launch time; null when unknown (not launched from here). */
  uptimeMs: number | null;
  costUsd: number | null;
}

const ENDED: ReadonlySet<string> = new Set(["terminated", "gone"]);
export const isEnded = (node: Pick<FleetNode, "status">) => ENDED.has(node.status);

/**
 * Joins GET /instances with the records: updates each record's status and address, marks the
 * ones the API has ended, and adds unrecorded instances named with `prefix`. Ended nodes come
 * last (for `nodes cost`); callers filter them out for live views.
 */
export async function reconcile(
  client: LambdaClient,
  store: NodeStore,
  prefix: string,
  options: { now?: number; signal?: AbortSignal } = {},
): Promise<FleetNode[]> {
  const instances = await client.listInstances(options.signal);
  const now = options.now ?? Date.now();
  const byId = new Map(instances.map((instance) => [instance.id, instance]));
  const nodes: FleetNode[] = [];
  for (let record of store.all()) {
    const instance = byId.get(record.id) ?? null;
    byId.delete(record.id);
    const status: FleetNode["status"] = instance?.status ?? "gone";
    if (ENDED.has(status) && record.stage !== "terminated") {
      record =
        store.update(record.id, {
          stage: "terminated",
          terminatedAt: record.terminatedAt ?? new Date(now).toISOString(),
        }) ?? record;
    } else if (instance !== null && (instance.ip ?? null) !== record.ip) {
      record = store.update(record.id, { ip: instance.ip ?? null }) ?? record;
    }
    const launched = Date.parse(record.launchedAt);
    const end = record.terminatedAt === null ? now : Date.parse(record.terminatedAt);
    nodes.push({
      id: record.id,
      name: instance?.name ?? record.name,
      status,
      ip: instance?.ip ?? record.ip,
      region: record.region,
      type: record.type,
      priceCentsPerHour: record.priceCentsPerHour,
      record,
      instance,
      uptimeMs: end - launched,
      costUsd: costUsd(record.priceCentsPerHour, launched, end),
    });
  }
  for (const instance of byId.values()) {
    if (!(instance.name ?? "").startsWith(prefix)) continue;
    nodes.push({
      id: instance.id,
      name: instance.name ?? null,
      status: instance.status,
      ip: instance.ip ?? null,
      region: instance.region.name,
      type: instance.instance_type.name,
      priceCentsPerHour: instance.instance_type.price_cents_per_hour,
      record: null,
      instance,
      uptimeMs: null,
      costUsd: null,
    });
  }
  return nodes.sort((a, b) => Number(isEnded(a)) - Number(isEnded(b)));
}

export interface TerminateOutcome {
  id: string;
  name: string | null;
  /** The API says terminating/terminated, or no longer lists it. */
  terminated: boolean;
  status: InstanceStatus | "gone" | "unknown";
  error: string | null;
}

export interface TerminateOptions {
  /** Tries before giving up (default 10). */
  attempts?: number;
  /** Wait between tries (default 15 s). */
  delayMs?: number;
  clock?: Clock;
  log?: (line: string) => void;
}

const gone = (status: InstanceStatus | "gone") =>
  status === "terminating" || status === "terminated" || status === "gone";

/**
 * Terminates `ids`, re-reading each one that the answer omits or that errs (terminating a node
 * that is already terminating has answered global/unknown), and tries again until every node
 * is ending or the attempts are spent. Records are marked as they end.
 */
export async function terminateNodes(
  client: LambdaClient,
  store: NodeStore,
  ids: readonly string[],
  options: TerminateOptions = {},
): Promise<TerminateOutcome[]> {
  const attempts = options.attempts ?? 10;
  const delayMs = options.delayMs ?? 15_000;
  const sleep = (ms: number) =>
    options.clock?.sleep(ms) ?? new Promise<void>((resolve) => setTimeout(resolve, ms));
  const outcomes = new Map<string, TerminateOutcome>(
    ids.map((id) => [
      id,
      { id, name: store.get(id)?.name ?? null, terminated: false, status: "unknown", error: null },
    ]),
  );
  for (const id of ids) store.update(id, { stage: "terminating" });
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    const pending = [...outcomes.values()].filter((o) => !o.terminated).map((o) => o.id);
    if (pending.length === 0) break;
    let answered = new Set<string>();
    try {
      const ended = await client.terminate(pending);
      answered = new Set(ended.map((instance) => instance.id));
      for (const instance of ended) {
        const outcome = outcomes.get(instance.id);
        if (outcome !== undefined && gone(instance.status)) {
          Object.assign(outcome, { terminated: true, status: instance.status, error: null });
        }
      }
    } catch (error) {
      const message = error instanceof LambdaApiError ? error.message : String(error);
      for (const id of pending) (outcomes.get(id) as TerminateOutcome).error = message;
    }
    // The answer may omit nodes, and an error may hide a success: read each one back.
    for (const id of pending.filter((id) => !answered.has(id))) {
      const outcome = outcomes.get(id) as TerminateOutcome;
      try {
        const instance = await client.getInstance(id);
        const status = instance?.status ?? "gone";
        outcome.status = status;
        if (gone(status)) Object.assign(outcome, { terminated: true, error: null });
      } catch (error) {
        outcome.error = error instanceof Error ? error.message : String(error);
      }
    }
    const left = [...outcomes.values()].filter((o) => !o.terminated);
    if (left.length > 0 && attempt < attempts) {
      options.log?.(
        `terminate: ${left.map((o) => o.name ?? o.id).join(", ")} not ending yet (try ${attempt} of ${attempts}); trying again in ${Math.round(delayMs / 1000)} s`,
      );
      await sleep(delayMs);
    }
  }
  const now = new Date().toISOString();
  for (const outcome of outcomes.values()) {
    if (!outcome.terminated) continue;
    const record = store.get(outcome.id);
    store.update(outcome.id, {
      stage: "terminated",
      terminatedAt: record?.terminatedAt ?? now,
    });
  }
  return [...outcomes.values()];
}

/** The loud paragraph for nodes that may still bill: id, price and how to end each. */
export function stillBillingWarning(
  outcomes: readonly TerminateOutcome[],
  priceOf: (id: string) => number | null,
): string | null {
  const left = outcomes.filter((o) => !o.terminated);
  if (left.length === 0) return null;
  const lines = left.map((o) => {
    const price = priceOf(o.id);
    const rate = price === null ? "" : ` at ${usd(price / 100)}/h`;
    const label = o.name === null ? o.id : `${o.name} (${o.id})`;
    return `  ${label}${rate}: deepconf nodes terminate ${o.name ?? o.id}${o.error ? `  [last error: ${o.error}]` : ""}`;
  });
  return [
    "!!! NODES MAY STILL BE BILLING: terminate did not take for:",
    ...lines,
    "!!! End them with the commands above or at https://cloud.lambda.ai/instances",
  ].join("\n");
}
