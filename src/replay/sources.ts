/**
 * What replay and tuning read: run directories (predictions.jsonl + confidences.bin) or pool
 * files. Several sources join into one pool; their instance ids are prefixed by the source when
 * more than one is given, so two runs of one benchmark stay apart.
 */
import { basename } from "node:path";
import { InputError } from "../errors.js";
import { readPool } from "./pool.js";
import { isRunDirectory, type LabelledPoolInstance, readRunPool } from "./run-pool.js";

export interface LoadedSources {
  instances: LabelledPoolInstance[];
  /** The top-k of the confidences (recorded in run directories, --topk for log-prob pools). */
  topk: number;
  /** The run directories among the sources. */
  runDirs: string[];
  notes: string[];
}

export async function loadSources(paths: readonly string[], topk: number): Promise<LoadedSources> {
  const instances: LabelledPoolInstance[] = [];
  const notes: string[] = [];
  const runDirs: string[] = [];
  let recordedK: number | null = null;
  for (const path of paths) {
    let loaded: LabelledPoolInstance[];
    if (isRunDirectory(path)) {
      const pool = await readRunPool(path);
      if (recordedK !== null && pool.k !== recordedK) {
        throw new InputError(
          `${path} recorded top-${pool.k} confidences, an earlier run top-${recordedK}: tune runs of one k together`,
        );
      }
      recordedK = pool.k;
      runDirs.push(path);
      notes.push(...pool.notes);
      loaded = pool.instances;
    } else {
      loaded = await readPool(path, { topk });
    }
    const prefix = paths.length > 1 ? `${basename(path)}/` : "";
    for (const instance of loaded) {
      instances.push({ ...instance, instanceId: `${prefix}${instance.instanceId}` });
    }
  }
  return { instances, topk: recordedK ?? topk, runDirs, notes };
}
