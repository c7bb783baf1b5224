/**
 * A run directory: manifest.json (what ran), predictions.jsonl (append-only, one line per
 * finished instance, flushed to disk as each instance ends), confidences.bin (the token
 * confidences of each line's traces, runs/confidences.ts, written just before the line) and
 * summary.json. Opening an existing directory resumes it: finished instances are read back and
 * skipped, and a line or record cut short by a crash is cut off its file (runs/predictions.ts,
 * mode "repair"; repairConfidences), so a kill loses at most the instance in flight.
 */
import { existsSync } from "node:fs";
import { mkdir, open, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "../errors.js";
import type { InstanceConfidences, PredictionRecord } from "../safety/types.js";
import { appendConfidences, CONFIDENCES, repairConfidences } from "./confidences.js";
import { acquireLock } from "./lock.js";
import { duplicatesNote, readPredictions } from "./predictions.js";

export const MANIFEST = "manifest.json";
export const PREDICTIONS = "predictions.jsonl";
export const SUMMARY = "summary.json";

export interface RunManifest {
  run_id: string;
  created_at: string;
  /** What decides the results; a resumed run must have the same. */
  config: Record<string, unknown>;
  [key: string]: unknown;
}

function diskError(error: unknown, path: string): never {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOSPC" || code === "EDQUOT") {
    throw new InputError(
      `the disk is full while writing ${path}: free some space and run the same command again to resume (finished predictions are kept)`,
    );
  }
  throw error;
}

export class RunDirectory {
  /** Instance ids of `finished`, built on the first append. */
  private ids: Set<string> | null = null;
  /**
   * The appends so far, in order: one at a time, so the files' order agrees (a record left
   * without its line by a crash is the sidecar's last) and an instance is never written twice.
   */
  private writing: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly dir: string,
    readonly manifest: RunManifest,
    readonly finished: PredictionRecord[],
    private readonly unlock: () => void,
    /** Worth telling the user on resume (e.g. duplicate lines dropped). */
    readonly notes: string[] = [],
  ) {}

  /**
   * Creates the directory, or reopens it for resuming when its config matches. Holds the
   * directory's lock (refused when another live process holds it) until close().
   */
  static async open(dir: string, manifest: RunManifest): Promise<RunDirectory> {
    const manifestPath = join(dir, MANIFEST);
    if (existsSync(manifestPath)) {
      const existing = JSON.parse(await readFile(manifestPath, "utf8")) as RunManifest;
      if (JSON.stringify(existing.config) !== JSON.stringify(manifest.config)) {
        throw new InputError(
          `${dir} holds a run with another configuration: give a new --out (or --run-id), or delete the directory to start over`,
        );
      }
      const unlock = acquireLock(dir);
      try {
        const path = join(dir, PREDICTIONS);
        const { predictions, duplicates } = await readPredictions(path, { mode: "repair" });
        const notes = duplicates > 0 ? [`${path}: ${duplicatesNote(duplicates)}`] : [];
        await repairSidecar(dir, new Set(predictions.map((p) => p.instance_id)));
        return new RunDirectory(dir, existing, predictions, unlock, notes);
      } catch (error) {
        unlock();
        throw error;
      }
    }
    let unlock = () => {};
    try {
      await mkdir(dir, { recursive: true });
      unlock = acquireLock(dir);
      await writeJsonAtomic(manifestPath, manifest);
    } catch (error) {
      unlock();
      diskError(error, manifestPath);
    }
    return new RunDirectory(dir, manifest, [], unlock);
  }

  /** Releases the directory's lock. */
  close(): void {
    this.unlock();
  }

  get predictionsPath(): string {
    return join(this.dir, PREDICTIONS);
  }

  get confidencesPath(): string {
    return join(this.dir, CONFIDENCES);
  }

  /**
   * Appends one prediction (and its traces' confidences, when given) and flushes it to disk
   * before returning. An instance already in the run is not written again (a result delivered
   * twice is kept once: the first wins).
   */
  async append(prediction: PredictionRecord, confidences?: InstanceConfidences): Promise<void> {
    const byId = new Map(confidences ? [[prediction.instance_id, confidences]] : []);
    await this.appendMany([prediction], byId);
  }

  /**
   * Appends several predictions with one write and one flush to disk (the collector writes a
   * whole batch read from the stream this way), deduplicating as append does: an instance
   * already in the run, or earlier in the same call, is not written again. The confidences of
   * the predictions written (by instance id; an instance without any gets no record) go to the
   * sidecar first, with one write and one flush. Returns the predictions written, in order.
   */
  appendMany(
    predictions: readonly PredictionRecord[],
    confidences: ReadonlyMap<string, InstanceConfidences> = new Map(),
  ): Promise<PredictionRecord[]> {
    const next = this.writing.then(() => this.write(predictions, confidences));
    this.writing = next.catch(() => undefined);
    return next;
  }

  private async write(
    predictions: readonly PredictionRecord[],
    confidences: ReadonlyMap<string, InstanceConfidences>,
  ): Promise<PredictionRecord[]> {
    this.ids ??= new Set(this.finished.map((p) => p.instance_id));
    const fresh: PredictionRecord[] = [];
    const batch = new Set<string>();
    for (const p of predictions) {
      if (this.ids.has(p.instance_id) || batch.has(p.instance_id)) continue;
      batch.add(p.instance_id);
      fresh.push(p);
    }
    if (fresh.length === 0) return fresh;
    const records = fresh.flatMap((p) => {
      const record = confidences.get(p.instance_id);
      if (record !== undefined && record.instance_id !== p.instance_id) {
        throw new Error(`confidences of ${record.instance_id} given for ${p.instance_id}`);
      }
      return record === undefined ? [] : [record];
    });
    // The record before its line: a crash in between leaves an unfinished instance, not a
    // finished one without confidences (see runs/confidences.ts).
    await appendConfidences(this.confidencesPath, records).catch((error) =>
      diskError(error, this.confidencesPath),
    );
    const file = await open(this.predictionsPath, "a").catch((error) =>
      diskError(error, this.predictionsPath),
    );
    try {
      await file.writeFile(fresh.map((p) => `${JSON.stringify(p)}\n`).join(""));
      await file.datasync();
    } catch (error) {
      diskError(error, this.predictionsPath);
    } finally {
      await file.close();
    }
    for (const p of fresh) {
      this.finished.push(p);
      this.ids.add(p.instance_id);
    }
    return fresh;
  }

  async writeSummary(summary: unknown): Promise<void> {
    const path = join(this.dir, SUMMARY);
    await writeJsonAtomic(path, summary).catch((error) => diskError(error, path));
  }
}

/**
 * Cuts off the end of the sidecar that no finished instance owns (a torn record, records whose
 * line never made it). Damage before that end stops the resume with what to do about it.
 */
async function repairSidecar(dir: string, finished: ReadonlySet<string>): Promise<void> {
  const path = join(dir, CONFIDENCES);
  try {
    await repairConfidences(path, finished);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    throw new InputError(
      `${error.message}: move ${path} away and run the same command again (the run resumes; the confidences that file held are lost, its predictions are kept)`,
    );
  }
}

/** Writes JSON to a temporary file beside `path`, then renames it over `path`. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`;
  await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`);
  await rename(temporary, path);
}
