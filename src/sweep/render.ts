/** Readable tables for `sweep plan` and `sweep status`. */
import Table from "cli-table3";
import type { PlanEstimate, SweepPlan } from "./plan.js";
import type { SweepStatus } from "./status.js";

const integer = (n: number) => Math.round(n).toLocaleString("en-US");
const percent = (x: number | null) => (x === null ? "-" : `${(100 * x).toFixed(1)}%`);
/** Two decimals, or three significant digits for small numbers. */
const figure = (x: number) => (x >= 1 || x === 0 ? x.toFixed(2) : x.toPrecision(3));
const compact = { head: [], border: [], compact: true };

function duration(seconds: number | null): string {
  if (seconds === null) return "-";
  if (seconds < 90) return `${Math.round(seconds)}s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)}m`;
  return `${(seconds / 3600).toFixed(1)}h`;
}

export function planText(plan: SweepPlan, estimate: PlanEstimate): string {
  const table = new Table({
    head: [
      "run",
      "model",
      "benchmark",
      "method",
      "seed",
      "instances",
      "shards",
      "tokens (max)",
      "tokens (floor)",
    ],
    style: compact,
  });
  plan.runs.forEach((run, i) => {
    const e = estimate.runs[i];
    table.push([
      run.runId,
      run.spec.model.revision
        ? `${run.spec.model.id}@${run.spec.model.revision.slice(0, 12)}`
        : run.spec.model.id,
      run.spec.benchmark.spec,
      run.spec.method,
      run.spec.seed,
      run.instances,
      run.shards.length,
      integer(e?.tokens_upper_bound ?? 0),
      integer(e?.tokens_floor ?? 0),
    ]);
  });
  const lines = [
    `sweep ${plan.sweepId}: ${plan.runs.length} runs, ${estimate.instances} instances, ${estimate.shards} shards of up to ${plan.shardSize} instances`,
    table.toString(),
    `tokens: at most ${integer(estimate.tokens_upper_bound)} (every trace to max tokens); DeepConf floor ${integer(estimate.tokens_floor)} (online methods stopping at consensus right after the warmup)`,
  ];
  if (estimate.gpu_hours) {
    lines.push(
      `GPU hours: ${figure(estimate.gpu_hours.floor)} - ${figure(estimate.gpu_hours.upper_bound)}` +
        (estimate.cost
          ? `; cost ${figure(estimate.cost.floor)} - ${figure(estimate.cost.upper_bound)} (at the given price per hour)`
          : ""),
    );
  } else lines.push("give --throughput TOKENS_PER_S [--price USD_PER_HOUR] for GPU hours and cost");
  lines.push("nothing was started: `deepconf sweep launch FILE` runs it");
  return `${lines.join("\n")}\n`;
}

export function statusText(status: SweepStatus): string {
  const s = status.shards;
  const table = new Table({
    head: [
      "run",
      "method",
      "instances",
      "shards w/a/d/f",
      "tokens",
      "tok/s",
      "early-stop",
      "accuracy",
      "savings",
      "ETA",
    ],
    style: compact,
  });
  for (const run of status.runs) {
    table.push([
      run.run_id,
      run.method,
      `${run.instances.done}/${run.instances.total}`,
      `${run.shards.waiting}/${run.shards.active}/${run.shards.done}/${run.shards.failed}`,
      integer(run.tokens.generated),
      run.tokens.per_second === null ? "-" : run.tokens.per_second.toFixed(1),
      percent(run.early_stop_rate),
      percent(run.accuracy),
      percent(run.savings),
      duration(run.instances.done === run.instances.total ? 0 : run.eta_seconds),
    ]);
  }
  const lines = [
    `sweep ${status.sweep_id}: ${status.state}, ${status.instances.done}/${status.instances.total} instances; shards ${s.waiting} waiting, ${s.active} active, ${s.done} done, ${s.failed} failed${s.cancelled ? `, ${s.cancelled} cancelled` : ""}`,
    table.toString(),
  ];
  for (const run of status.runs) for (const error of run.errors) lines.push(`failed: ${error}`);
  if (status.workers.length > 0) {
    const workers = new Table({
      head: ["worker", "host", "device", "models", "shard", "heartbeat"],
      style: compact,
    });
    for (const w of status.workers)
      workers.push([
        w.id,
        w.host,
        w.device,
        w.models.join(", ") || "-",
        w.current_job ?? "-",
        w.last_heartbeat,
      ]);
    lines.push(workers.toString());
  }
  return `${lines.join("\n")}\n`;
}
