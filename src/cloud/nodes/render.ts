/** Tables for `nodes types`, `nodes list` and `nodes cost`. */
import Table from "cli-table3";
import type { WorkerHeartbeat } from "../../queue/types.js";
import type { InstanceTypeOffer } from "../lambda/types.js";
import { duration, usd } from "./cost.js";
import type { FleetNode } from "./fleet.js";

const compact = { head: [], border: [], compact: true };

export function typesText(offers: InstanceTypeOffer[]): string {
  const table = new Table({
    head: ["type", "GPUs", "price/h", "vCPUs", "RAM GiB", "regions with capacity now"],
    style: compact,
  });
  for (const o of offers) {
    const regions = o.regions_with_capacity_available.map((r) => r.name);
    table.push([
      o.name,
      o.gpu_description || String(o.specs.gpus),
      usd(o.price_cents_per_hour / 100),
      o.specs.vcpus,
      o.specs.memory_gib,
      regions.length > 0 ? regions.join(", ") : "none",
    ]);
  }
  return `${table.toString()}\n`;
}

/** The worker column: state from the node's heartbeats in our Redis. */
function workerState(node: FleetNode, workers: WorkerHeartbeat[] | null): string {
  if (workers === null) return "?";
  const mine = workers.filter((w) => node.name !== null && w.node === node.name);
  if (mine.length === 0) return node.record?.stage === "ready" ? "no heartbeat" : "-";
  return mine
    .map((w) =>
      w.jobs.length > 0
        ? `${w.state} ${w.jobs.map((j) => `${j.done}/${j.total}`).join(" ")}`
        : w.state,
    )
    .join("; ");
}

export function listText(nodes: FleetNode[], workers: WorkerHeartbeat[] | null): string {
  if (nodes.length === 0) return "no nodes (deepconf nodes launch --type TYPE starts one)\n";
  const table = new Table({
    head: ["name", "id", "status", "stage", "type", "region", "ip", "uptime", "cost", "worker"],
    style: compact,
  });
  for (const node of nodes) {
    table.push([
      node.name ?? "(no name)",
      node.id,
      node.status,
      node.record?.stage ?? "not ours",
      node.type,
      node.region,
      node.ip ?? "-",
      node.uptimeMs === null ? "?" : duration(node.uptimeMs),
      node.costUsd === null ? "?" : usd(node.costUsd),
      workerState(node, workers),
    ]);
  }
  const hourly = nodes
    .filter((n) => n.status !== "terminated" && n.status !== "gone" && n.status !== "terminating")
    .reduce((sum, n) => sum + n.priceCentsPerHour / 100, 0);
  return `${table.toString()}\nbilling now: ${usd(hourly)}/h\n`;
}

export function costText(nodes: FleetNode[]): string {
  const table = new Table({
    head: ["name", "id", "type", "price/h", "launched", "ended", "billed", "cost"],
    style: compact,
  });
  let total = 0;
  let unknown = 0;
  for (const node of nodes) {
    if (node.costUsd === null) unknown += 1;
    else total += node.costUsd;
    table.push([
      node.name ?? "(no name)",
      node.id,
      node.type,
      usd(node.priceCentsPerHour / 100),
      node.record?.launchedAt.slice(0, 16).replace("T", " ") ?? "?",
      node.record?.terminatedAt?.slice(0, 16).replace("T", " ") ??
        (node.status === "gone" ? "?" : "running"),
      node.uptimeMs === null ? "?" : duration(node.uptimeMs),
      node.costUsd === null ? "?" : usd(node.costUsd),
    ]);
  }
  const note =
    unknown > 0
      ? ` (+ ${unknown} node(s) not launched from here: their launch time is unknown)`
      : "";
  return (
    `${table.toString()}\ntotal since launch: ${usd(total)}${note}\n` +
    "(price x uptime, billed per started minute; Lambda's invoice is the final word)\n"
  );
}
