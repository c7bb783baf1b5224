/**
 * A run directory: manifest.json (what ran), predictions.jsonl (append-only, one line per
 * finished instance, flushed to disk as each instance ends) and summary.json. Opening an
 * existing directory resumes it: finished instances are read back and skipped, and a line cut
 * short by a crash is cut off the file (runs/predictions.ts, mode "repair"), so a kill loses at
 * most the instance in flight.
 */
import { existsSync } from "node:fs";
import { mkdir, open, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "../errors.js";
import type { PredictionRecord } from "../safety/types.js";
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

  /**
   * Appends one prediction and flushes it to disk before returning. An instance already in the
   * run is not written again (a result delivered twice is kept once: the first wins).
   */
  async append(prediction: PredictionRecord): Promise<void> {
    await this.appendMany([prediction]);
  }

  /**
   * Appends several predictions with one write and one flush to disk (the collector writes a
   * whole batch read from the stream this way), deduplicating as append does: an instance
   * already in the run, or earlier in the same call, is not written again. Returns the
   * predictions written, in order.
   */
  async appendMany(predictions: readonly PredictionRecord[]): Promise<PredictionRecord[]> {
    this.ids ??= new Set(this.finished.map((p) => p.instance_id));
    const fresh: PredictionRecord[] = [];
    const batch = new Set<string>();
    for (const p of predictions) {
      if (this.ids.has(p.instance_id) || batch.has(p.instance_id)) continue;
      batch.add(p.instance_id);
      fresh.push(p);
    }
    if (fresh.length === 0) return fresh;
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

/** Writes JSON to a temporary file beside `path`, then renames it over `path`. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`;
  await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`);
  await rename(temporary, path);
}
