/** Turns replay results into the `deepconf replay` JSON document and its readable tables. */
import Table from "cli-table3";
import {
  type InstanceReplay,
  type ReplayOptions,
  type ReplayTotals,
  tokenSavings,
} from "../engine/replay.js";
import type { TraceStats } from "../engine/types.js";

export interface ReplayParams extends ReplayOptions {
  /** "low" / "high" when eta came from a named variant, else null. */
  variant: "low" | "high" | null;
}

/** The documented JSON document: snake_case keys, full-precision numbers, null, never NaN. */
export function replayDocument(
  params: ReplayParams,
  instances: readonly InstanceReplay[],
  totals: ReplayTotals,
) {
  return {
    params: {
      window: params.window,
      topk: params.topk,
      tail: params.tail,
      eta: params.eta,
      variant: params.variant,
      warmup: params.warmup,
      budget: params.budget,
      tau: params.tau,
      min_voters: params.minVoters,
    },
    instances: instances.map(({ instanceId, traces, offline, online }) => ({
      instance_id: instanceId,
      traces: traces.map(({ traceId, stats }) => ({ trace_id: traceId, ...stats })),
      offline,
      online: {
        threshold: online.threshold,
        answer: online.answer,
        traces_used: online.tracesUsed,
        tokens_used: online.tokensUsed,
        tokens_baseline: online.tokensBaseline,
        stopped: online.stopped,
        voted: online.traces.filter((t) => t.voted).map((t) => t.traceId),
        consensus: online.consensus,
        budget: online.budget,
        baseline_answer: online.baselineAnswer,
        stop_reason: online.stopReason,
      },
    })),
    totals: {
      tokens_used: totals.tokensUsed,
      tokens_baseline: totals.tokensBaseline,
      savings: totals.savings,
    },
  };
}

const fixed = (value: number | null, digits = 3) => (value === null ? "-" : value.toFixed(digits));
const percent = (value: number | null) => (value === null ? "-" : `${(value * 100).toFixed(1)}%`);
const quoted = (answer: string | null) => (answer === null ? "(none)" : JSON.stringify(answer));
const integer = (value: number) => value.toLocaleString("en-US");

function traceRole(instance: InstanceReplay, traceId: string): string {
  const online = instance.online.traces.find((t) => t.traceId === traceId);
  if (!online) return "not used";
  const role = online.warmup ? "warmup" : "online";
  if (online.end === "stopped") return `${role}, stopped at ${online.stats.tokens}`;
  return online.voted ? `${role}, voted` : `${role}, no vote`;
}

function statsCells(stats: TraceStats): string[] {
  return [
    integer(stats.tokens),
    fixed(stats.mean),
    fixed(stats.lowest),
    fixed(stats.bottom10),
    fixed(stats.tail),
  ];
}

/** A readable block per instance (traces, online and offline answers) and the totals. */
export function replayText(
  params: ReplayParams,
  instances: readonly InstanceReplay[],
  totals: ReplayTotals,
): string {
  const variant = params.variant === null ? "" : `DeepConf-${params.variant}, `;
  const out: string[] = [
    `DeepConf replay: ${variant}eta ${params.eta}, window ${params.window}, tail ${params.tail}, ` +
      `top-${params.topk}, warmup ${params.warmup}, budget ${params.budget ?? "all"}, tau ${params.tau}, min voters ${params.minVoters}`,
    "",
  ];
  for (const instance of instances) {
    const { online, offline } = instance;
    out.push(`Instance ${quoted(instance.instanceId)}: ${instance.traces.length} traces`);
    const table = new Table({
      head: ["trace", "answer", "tokens", "mean", "lowest", "bottom10", "tail", "online"],
      style: { head: [], border: [], compact: true },
    });
    for (const trace of instance.traces) {
      table.push([
        trace.traceId,
        quoted(trace.answer),
        ...statsCells(trace.stats),
        traceRole(instance, trace.traceId),
      ]);
    }
    out.push(table.toString());
    out.push(
      `  online:  answer ${quoted(online.answer)} | threshold ${fixed(online.threshold)} | ` +
        `traces ${online.tracesUsed}/${online.budget} (${online.stopped.length} stopped) | ` +
        `tokens ${integer(online.tokensUsed)} of ${integer(online.tokensBaseline)} ` +
        `(saved ${percent(tokenSavings(online.tokensUsed, online.tokensBaseline))}) | ` +
        `consensus ${percent(online.consensus)}, ended by ${online.stopReason ?? "-"}`,
      `  Cons@${online.budget}: answer ${quoted(online.baselineAnswer)}`,
      `  offline: ${Object.entries(offline)
        .map(([method, answer]) => `${method} ${quoted(answer)}`)
        .join(" | ")}`,
      "",
    );
  }
  out.push(
    `Totals over ${instances.length} instances: ${integer(totals.tokensUsed)} tokens used, ` +
      `${integer(totals.tokensBaseline)} for Cons@B (measured), savings ${percent(totals.savings)}`,
  );
  return `${out.join("\n")}\n`;
}
