/**
 * A run directory as a replay pool: each instance's recorded traces (from predictions.jsonl) with
 * their per-token confidences (from confidences.bin), the answer each trace's recorded refusal
 * verdict gives, and the instance's label. Only runs of complete traces can stand in for fresh
 * sampling: the `baseline` and `offline` methods (budget B complete traces per instance); the
 * online methods stopped traces early, so replaying them would be biased.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { loadRun } from "../analysis/load.js";
import type { PoolInstance } from "../engine/replay.js";
import { InputError } from "../errors.js";
import { CONFIDENCES, joinConfidences, readConfidences } from "../runs/confidences.js";
import { EMPTY_ANSWER, THINK_UNCLOSED } from "../safety/refusal/index.js";
import type { TraceRecord } from "../safety/types.js";

/** A pool instance with what tuning needs beside the traces. */
export interface LabelledPoolInstance extends PoolInstance {
  /** Whether the prompt should be refused (the benchmark's label); null when unknown. */
  shouldRefuse: boolean | null;
}

export interface RunPool {
  dir: string;
  runId: string;
  method: string;
  /** The top-k the confidences were computed with. */
  k: number;
  /** Traces recorded per instance (the run's budget). */
  budget: number;
  instances: LabelledPoolInstance[];
  /** Instances left out and why (no confidences recorded, a mismatch), in plain words. */
  notes: string[];
}

const COMPLETE_METHODS = new Set(["baseline", "offline"]);

/** The vote a recorded trace casts: its refusal verdict, or null when it had no answer. */
export function recordedAnswer(trace: TraceRecord): "refusal" | "compliance" | null {
  if (
    trace.tokens === 0 ||
    trace.refusal_pattern === THINK_UNCLOSED ||
    trace.refusal_pattern === EMPTY_ANSWER ||
    trace.refusal_kind === "unknown-language"
  )
    return null;
  return trace.refusal_kind === "refusal" || trace.refusal_kind === "partial"
    ? "refusal"
    : "compliance";
}

export function isRunDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

export async function readRunPool(dir: string): Promise<RunPool> {
  const run = await loadRun(dir);
  const method = String(run.manifest.config?.method ?? "");
  if (!COMPLETE_METHODS.has(method)) {
    throw new InputError(
      `${dir} is a ${method || "unknown-method"} run: replay needs complete traces, so record a baseline or offline run (budget B complete traces per instance: deepconf run --method baseline --budget B) and replay that`,
    );
  }
  const sidecar = join(dir, CONFIDENCES);
  if (!existsSync(sidecar)) {
    throw new InputError(
      `${dir} has no ${CONFIDENCES}: it was recorded before runs kept per-token confidences; run it again (the same command resumes nothing: use a new --out) to replay it`,
    );
  }
  const file = await readConfidences(sidecar);
  const joined = joinConfidences(run.predictions, file);
  const notes: string[] = [];
  if (file.torn) notes.push(`${sidecar} ends in a record cut short (the run was killed): ignored`);
  if (joined.missing.length > 0) {
    notes.push(
      `${joined.missing.length} instances have no confidences recorded: left out (${joined.missing.slice(0, 3).join(", ")}${joined.missing.length > 3 ? ", ..." : ""})`,
    );
  }
  for (const { instance_id, problem } of joined.mismatched) {
    notes.push(
      `instance ${instance_id}: its confidences do not fit its traces (${problem}): left out`,
    );
  }
  let k: number | null = null;
  let budget = 0;
  const instances: LabelledPoolInstance[] = [];
  for (const prediction of run.predictions) {
    const entry = joined.matched.get(prediction.instance_id);
    if (entry === undefined) continue;
    if (k !== null && entry.k !== k) {
      throw new InputError(
        `${sidecar}: instance ${prediction.instance_id} was recorded with top-${entry.k}, others with top-${k}`,
      );
    }
    k = entry.k;
    budget = Math.max(budget, prediction.traces.length);
    instances.push({
      instanceId: prediction.instance_id,
      shouldRefuse: prediction.should_refuse,
      traces: prediction.traces.map((trace) => ({
        traceId: trace.trace_id,
        answer: recordedAnswer(trace),
        confidences: Float64Array.from(entry.traces.get(trace.trace_id) as Float32Array),
      })),
    });
  }
  if (instances.length === 0) {
    throw new InputError(`${dir}: no instance has both a prediction and its confidences`);
  }
  const runId = String(run.manifest.run_id ?? dir);
  return { dir, runId, method, k: k as number, budget, instances, notes };
}
