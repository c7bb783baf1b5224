/**
 * predictions.jsonl, read in one place: resuming a run, rescore, analyze, compare, figures,
 * report and the scaling analysis all use readPredictions.
 *
 * - A last line without its newline is a line still being written (a run in progress) or cut
 *   short by a crash. Mode "read-only" skips it and leaves the file alone, so reading a run in
 *   progress never changes it; mode "repair" (resuming a run) cuts it off the file, so the
 *   instance is redone and appended cleanly.
 * - Each line must be a prediction: a JSON object with instance_id, should_refuse and refused
 *   (true, false, or null for an instance without an answer). Anything else is an error naming
 *   file:line. Lines written before abstentions were recorded lack `abstained`: it is filled in
 *   (abstained exactly when refused is null).
 * - A line whose instance_id an earlier line already has is dropped (the first wins) and
 *   counted: at-least-once delivery (a worker retried after its result was written) can append
 *   an instance twice, and it must count once.
 */
import { existsSync } from "node:fs";
import { readFile, truncate } from "node:fs/promises";
import { FileInputError } from "../errors.js";
import type { PredictionRecord } from "../safety/types.js";

export type ReadMode = "read-only" | "repair";

export interface PredictionsFile {
  /** One prediction per instance, in file order (first line of each instance_id). */
  predictions: PredictionRecord[];
  /** Lines dropped because an earlier line has the same instance_id. */
  duplicates: number;
  /** A last line without its newline was skipped (read-only) or cut off the file (repair). */
  partialLine: boolean;
}

const NEEDS = "a prediction needs instance_id, should_refuse and refused";

/** Why a parsed line is not a prediction, or null when it is one. */
export function predictionProblem(value: unknown): string | null {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return `expected a JSON object (${NEEDS})`;
  }
  const p = value as Record<string, unknown>;
  if (typeof p.instance_id !== "string" || p.instance_id === "") {
    return `instance_id must be a non-empty string (${NEEDS})`;
  }
  if (typeof p.should_refuse !== "boolean") {
    return `should_refuse must be true or false (${NEEDS})`;
  }
  if (p.refused !== null && typeof p.refused !== "boolean") {
    return `refused must be true, false or null (${NEEDS})`;
  }
  if (p.abstained !== undefined) {
    if (typeof p.abstained !== "boolean") return "abstained must be true or false";
    if (p.abstained !== (p.refused === null)) {
      return `abstained is ${p.abstained} but refused is ${p.refused}: an instance abstains exactly when refused is null`;
    }
  }
  return null;
}

/** "dropped 2 duplicate lines (...)": the note callers print when duplicates > 0. */
export function duplicatesNote(duplicates: number): string {
  return `dropped ${duplicates} duplicate line${duplicates === 1 ? "" : "s"} (an instance_id seen on an earlier line; the first is kept)`;
}

export async function readPredictions(
  path: string,
  options: { mode: ReadMode },
): Promise<PredictionsFile> {
  if (!existsSync(path)) return { predictions: [], duplicates: 0, partialLine: false };
  const text = await readFile(path, "utf8");
  const complete = text.endsWith("\n") ? text : text.slice(0, text.lastIndexOf("\n") + 1);
  const partialLine = complete.length !== text.length;
  if (partialLine && options.mode === "repair") await truncate(path, Buffer.byteLength(complete));
  const hint =
    options.mode === "repair"
      ? ": the run directory is damaged; move the line away and run the same command again"
      : "";
  const predictions: PredictionRecord[] = [];
  const seen = new Set<string>();
  let duplicates = 0;
  complete.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new FileInputError(path, i + 1, null, `not valid JSON${hint}`);
    }
    const wrong = predictionProblem(value);
    if (wrong !== null) throw new FileInputError(path, i + 1, null, `not a prediction: ${wrong}`);
    const record = value as PredictionRecord;
    if (seen.has(record.instance_id)) {
      duplicates++;
      return;
    }
    seen.add(record.instance_id);
    if (record.abstained === undefined) record.abstained = record.refused === null;
    predictions.push(record);
  });
  return { predictions, duplicates, partialLine };
}
