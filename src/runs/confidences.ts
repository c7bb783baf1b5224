/**
 * confidences.bin, beside predictions.jsonl: the token confidences C_i of every prediction's
 * traces (bytes: runs/confidences-codec.ts), appended and flushed as instances finish, read here
 * in one place, so runs can be replayed and DeepConf tuned without the model.
 *
 * Order of the two writes (RunDirectory.appendMany): an instance's record goes to disk BEFORE its
 * prediction line. A crash between them leaves a record without a line: the instance is not
 * finished, resume runs it again, and the record left behind is cut off when the directory is
 * reopened (repairConfidences; it is the file's last, since a directory's writes are serialized).
 * The other order would leave a line without its record, and resume never redoes a finished
 * instance: its confidences would be lost for good.
 *
 * Readers join by instance id (joinConfidences): the first complete record of an instance wins
 * (duplicates are counted), a prediction without a record is missing (a run written before the
 * sidecar existed, or whose record was torn off), reported, not an error, and a record without a
 * prediction (a run about to write that line) is left aside.
 */
import { existsSync } from "node:fs";
import { open, readFile, truncate } from "node:fs/promises";
import type { InstanceConfidences, PredictionRecord } from "../safety/types.js";
import {
  type DecodedConfidences,
  encodeConfidences,
  FILE_HEADER_BYTES,
  fileHeader,
  scanConfidences,
} from "./confidences-codec.js";

export const CONFIDENCES = "confidences.bin";

/** One instance's confidences as read back: C_i per trace id, in trace order. */
export interface ConfidencesEntry {
  /** The top-k they were computed with. */
  k: number;
  traces: Map<string, Float32Array>;
}

/** A decoded record as the reader keeps it. */
export function entryOf(record: DecodedConfidences): ConfidencesEntry {
  return { k: record.k, traces: new Map(record.traces.map((t) => [t.trace_id, t.values])) };
}

export interface ConfidencesFile {
  /** The first complete record of each instance, in file order. */
  instances: Map<string, ConfidencesEntry>;
  /** Complete records read, duplicates included. */
  records: number;
  /** Records of an instance an earlier record already has (left out of `instances`). */
  duplicates: number;
  /** The file ends in a record cut short (a run killed while writing it): ignored. */
  torn: boolean;
}

/**
 * Every complete record of a sidecar (none when the file does not exist). An InputError naming
 * the file for one that is not a sidecar, and for damage before its last record.
 */
export async function readConfidences(path: string): Promise<ConfidencesFile> {
  const file: ConfidencesFile = { instances: new Map(), records: 0, duplicates: 0, torn: false };
  if (!existsSync(path)) return file;
  const scan = scanConfidences(await readFile(path), path);
  file.torn = scan.torn;
  for (const { record } of scan.records) {
    file.records++;
    if (file.instances.has(record.instance_id)) {
      file.duplicates++;
      continue;
    }
    file.instances.set(record.instance_id, entryOf(record));
  }
  return file;
}

/**
 * Appends records with one write and flushes them to disk (a new file gets the format header
 * first). The file must end where a record ends: RunDirectory repairs it when it opens a run.
 */
export async function appendConfidences(
  path: string,
  records: readonly InstanceConfidences[],
): Promise<void> {
  if (records.length === 0) return;
  const file = await open(path, "a");
  try {
    const parts = records.map(encodeConfidences);
    if ((await file.stat()).size === 0) parts.unshift(fileHeader());
    await file.writeFile(Buffer.concat(parts));
    await file.datasync();
  } finally {
    await file.close();
  }
}

export interface ConfidencesRepair {
  /** Bytes cut off the end of the file. */
  cut: number;
  /** Of those, whole records of instances without a prediction line. */
  orphans: number;
  /** A record cut short was among them. */
  torn: boolean;
}

/**
 * Before a run directory is written again: cuts off the end of the sidecar after the last
 * record of a finished instance: a record cut short, and records whose prediction line never
 * made it (those instances run again and append theirs).
 */
export async function repairConfidences(
  path: string,
  finished: ReadonlySet<string>,
): Promise<ConfidencesRepair> {
  if (!existsSync(path)) return { cut: 0, orphans: 0, torn: false };
  const bytes = await readFile(path);
  const scan = scanConfidences(bytes, path);
  let keep = scan.complete >= FILE_HEADER_BYTES ? FILE_HEADER_BYTES : 0;
  let orphans = 0;
  for (const { record, end } of scan.records) {
    if (finished.has(record.instance_id)) {
      keep = end;
      orphans = 0;
    } else orphans++;
  }
  if (keep < bytes.length) await truncate(path, keep);
  return { cut: bytes.length - keep, orphans, torn: scan.torn };
}

/** Why an instance's confidences do not belong to its prediction, or null when they do. */
export function confidencesProblem(
  prediction: Pick<PredictionRecord, "traces">,
  entry: ConfidencesEntry,
): string | null {
  const traces = [...entry.traces];
  // A line from outside (a queue entry) may lack its traces: then none fit.
  const lineTraces = Array.isArray(prediction.traces) ? prediction.traces : [];
  if (traces.length !== lineTraces.length) {
    return `${traces.length} traces of confidences for the prediction's ${lineTraces.length}`;
  }
  for (const [i, trace] of lineTraces.entries()) {
    const [id, values] = traces[i] as [string, Float32Array];
    if (id !== trace.trace_id) return `trace ${i} is ${id}, the prediction's is ${trace.trace_id}`;
    if (values.length !== trace.tokens) {
      return `trace ${id}: ${values.length} confidences for ${trace.tokens} tokens`;
    }
  }
  return null;
}

export interface ConfidencesJoin {
  /** Predictions' confidences, by instance id. */
  matched: Map<string, ConfidencesEntry>;
  /** Predictions without a record. */
  missing: string[];
  /** Records that do not fit their prediction (traces, token counts): left out. */
  mismatched: Array<{ instance_id: string; problem: string }>;
  /** Records without a prediction (a run about to write its line). */
  orphans: string[];
}

/** A run's predictions with their confidences, joined by instance id. */
export function joinConfidences(
  predictions: readonly PredictionRecord[],
  file: ConfidencesFile,
): ConfidencesJoin {
  const join: ConfidencesJoin = { matched: new Map(), missing: [], mismatched: [], orphans: [] };
  for (const p of predictions) {
    const entry = file.instances.get(p.instance_id);
    if (entry === undefined) {
      join.missing.push(p.instance_id);
      continue;
    }
    const problem = confidencesProblem(p, entry);
    if (problem === null) join.matched.set(p.instance_id, entry);
    else join.mismatched.push({ instance_id: p.instance_id, problem });
  }
  const ids = new Set(predictions.map((p) => p.instance_id));
  join.orphans = [...file.instances.keys()].filter((id) => !ids.has(id));
  return join;
}
