/**
 * The collector: reads a sweep's results stream through a consumer group and writes each
 * prediction into its run directory on this disk (`<out>/<run_id>/`, created with its manifest
 * by whoever launched the sweep), its confidences record into the directory's sidecar just
 * before it, flushed to disk, and only then acknowledges the entry.
 * Delivery is at-least-once; the run directory keeps one line per instance, so an entry read
 * twice (a worker that sent an instance again, a collector killed between write and ack) is
 * written once. A collector killed at any point and started again loses nothing: it first
 * re-reads the entries it had read but not acknowledged, and claims those another (dead)
 * collector left idle.
 *
 * Run it in-process (startCollector: `sweep launch --follow`, `sweep watch`) or alone
 * (`deepconf collect`). One collector per sweep at a time.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { confidencesProblem, entryOf } from "../runs/confidences.js";
import { decodeConfidences } from "../runs/confidences-codec.js";
import { MANIFEST, RunDirectory, type RunManifest } from "../runs/directory.js";
import { predictionProblem } from "../runs/predictions.js";
import type { InstanceConfidences, PredictionRecord } from "../safety/types.js";
import {
  COLLECTOR_GROUP,
  checkPrefix,
  checkSweepId,
  DEFAULT_PREFIX,
  resultsStreamKey,
} from "./names.js";
import { closeRedis, connectRedis, type RedisTarget, redactSecrets } from "./redis.js";
import { RESULT_FIELDS } from "./types.js";

export interface CollectorOptions {
  /** redis://[:password@]host:port[/db] */
  redis: string;
  prefix?: string;
  sweepId: string;
  /** Parent folder of the sweep's run directories. */
  out: string;
  /** Consumer name in the group (default: this host's name, so a restart finds its entries). */
  consumer?: string;
  /** Entries per read (default 200). */
  batch?: number;
  /** Longest wait for new entries per read (default 1 s; also bounds how long stop() takes). */
  blockMs?: number;
  /** Entries another consumer has held unacknowledged this long are taken over (default 60 s). */
  claimIdleMs?: number;
  /** Entries that could not be written (no run directory yet, a full disk) are retried this often (default 5 s). */
  retryMs?: number;
  /** Delete entries from the stream once written and acknowledged (default true). */
  deleteAcked?: boolean;
  connectTimeoutMs?: number;
  /** Each prediction written to disk (not called for duplicates). */
  onPrediction?: (written: CollectedPrediction) => void;
  /** Entries that cannot be written now or ever, Redis trouble: one line each, password-free. */
  onProblem?: (message: string) => void;
}

export interface CollectedPrediction {
  entryId: string;
  runId: string;
  instanceId: string;
  runDir: string;
  prediction: PredictionRecord;
}

export interface CollectorStats {
  /** Predictions written to disk. */
  written: number;
  /** Entries for an instance already on disk (acknowledged, not written). */
  duplicates: number;
  /** Entries that can never be written (acknowledged and dropped, reported). */
  malformed: number;
  /** Entries left unacknowledged for now (no run directory, a write error): retried. */
  pending: number;
}

export interface Collector {
  readonly stats: Readonly<CollectorStats>;
  readonly target: RedisTarget;
  /**
   * Stops reading. With `drain`, first reads until the stream has nothing new (call it once
   * every shard is done: all their results are in the stream by then).
   */
  stop(options?: { drain?: boolean }): Promise<CollectorStats>;
  /** Resolves when the collector has stopped (by stop() or a fatal error). */
  readonly done: Promise<CollectorStats>;
}

/** Entries are read as bytes: the confidences field is binary (ids and the rest are UTF-8). */
type Entry = [id: string, fields: Buffer[] | null];
type RawEntry = [id: Buffer, fields: Buffer[] | null];
type ReadReply = Array<[key: Buffer, entries: RawEntry[]]> | null;

const entriesOf = (raw: readonly RawEntry[] | undefined): Entry[] =>
  (raw ?? []).map(([id, fields]) => [id.toString(), fields]);

interface Parsed {
  prediction: PredictionRecord;
  confidences?: InstanceConfidences;
}

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An existing run directory, reopened with its own manifest (any config matches itself). */
async function openRun(dir: string): Promise<RunDirectory | null> {
  const path = join(dir, MANIFEST);
  if (!existsSync(path)) return null;
  const manifest = JSON.parse(await readFile(path, "utf8")) as RunManifest;
  return RunDirectory.open(dir, manifest);
}

class StreamCollector implements Collector {
  readonly stats: CollectorStats = { written: 0, duplicates: 0, malformed: 0, pending: 0 };
  readonly done: Promise<CollectorStats>;
  private readonly key: string;
  private readonly consumer: string;
  private readonly runs = new Map<string, RunDirectory>();
  /** Entries read but not written (and not acknowledged): retried later. */
  private readonly unwritten = new Set<string>();
  private readonly reported = new Set<string>();
  private stopping = false;
  private draining = false;

  constructor(
    private readonly options: CollectorOptions,
    private readonly client: Redis,
    readonly target: RedisTarget,
    prefix: string,
  ) {
    this.key = resultsStreamKey(prefix, options.sweepId);
    this.consumer = options.consumer ?? hostname();
    this.done = this.loop();
    // stop() reports a fatal error; nothing else awaits `done` necessarily.
    this.done.catch(() => undefined);
  }

  async stop({ drain = false }: { drain?: boolean } = {}): Promise<CollectorStats> {
    this.draining ||= drain;
    if (!drain) this.stopping = true;
    const blockMs = this.options.blockMs ?? 1000;
    if (!drain) {
      // A read blocked on a Redis that went away would wait for it: cut it off.
      const timer = setTimeout(() => this.client.disconnect(), blockMs + 2000);
      try {
        return await this.done;
      } finally {
        clearTimeout(timer);
      }
    }
    return this.done;
  }

  private problem(message: string, once?: string): void {
    if (once !== undefined) {
      if (this.reported.has(once)) return;
      this.reported.add(once);
    }
    this.options.onProblem?.(redactSecrets(message, this.target));
  }

  private async ensureGroup(): Promise<void> {
    try {
      // From the stream's start: results sent before the first collector started count too.
      await this.client.xgroup("CREATE", this.key, COLLECTOR_GROUP, "0", "MKSTREAM");
    } catch (error) {
      if (!/BUSYGROUP/.test((error as Error).message)) throw error;
    }
  }

  private async loop(): Promise<CollectorStats> {
    const o = this.options;
    const batch = o.batch ?? 200;
    const blockMs = o.blockMs ?? 1000;
    const claimIdleMs = o.claimIdleMs ?? 60_000;
    const retryMs = o.retryMs ?? 5000;
    let nextClaim = 0;
    let nextRetry = 0;
    let pendingFirst = true;
    try {
      while (!this.stopping) {
        try {
          await this.ensureGroup();
          const now = Date.now();
          if (pendingFirst || (this.unwritten.size > 0 && now >= nextRetry)) {
            // Our own entries read before and never acknowledged (a restart, earlier failures).
            await this.readOwnPending(batch);
            pendingFirst = false;
            nextRetry = now + retryMs;
          }
          if (now >= nextClaim) {
            await this.claimIdle(batch, claimIdleMs);
            nextClaim = now + Math.max(1000, Math.min(claimIdleMs, 30_000));
          }
          const args: Array<string | number> = [
            "GROUP",
            COLLECTOR_GROUP,
            this.consumer,
            "COUNT",
            batch,
          ];
          if (!this.draining) args.push("BLOCK", blockMs);
          args.push("STREAMS", this.key, ">");
          const reply = (await this.client.callBuffer("XREADGROUP", ...args)) as ReadReply;
          const entries = entriesOf(reply?.[0]?.[1]);
          if (entries.length === 0 && this.draining) break;
          await this.handle(entries);
        } catch (error) {
          if (this.stopping) break;
          const message = (error as Error).message;
          if (/NOGROUP/.test(message)) continue; // the stream was lost (Redis restarted): recreate
          this.problem(`collector: ${message}`);
          await sleep(Math.min(1000, blockMs));
        }
      }
    } finally {
      this.stats.pending = this.unwritten.size;
      // Release the run directories' locks: another process may write them next.
      for (const run of this.runs.values()) run.close();
      this.runs.clear();
      await closeRedis(this.client);
    }
    return { ...this.stats };
  }

  private async readOwnPending(batch: number): Promise<void> {
    this.unwritten.clear();
    let cursor = "0";
    for (;;) {
      const reply = (await this.client.callBuffer(
        "XREADGROUP",
        "GROUP",
        COLLECTOR_GROUP,
        this.consumer,
        "COUNT",
        batch,
        "STREAMS",
        this.key,
        cursor,
      )) as ReadReply;
      const entries = entriesOf(reply?.[0]?.[1]);
      if (entries.length === 0) return;
      await this.handle(entries);
      cursor = entries[entries.length - 1]?.[0] ?? cursor;
    }
  }

  private async claimIdle(batch: number, idleMs: number): Promise<void> {
    let cursor = "0-0";
    do {
      const reply = (await this.client.callBuffer(
        "XAUTOCLAIM",
        this.key,
        COLLECTOR_GROUP,
        this.consumer,
        idleMs,
        cursor,
        "COUNT",
        batch,
      )) as [Buffer, RawEntry[], Buffer[]?];
      cursor = reply[0].toString();
      if (reply[1].length > 0) await this.handle(entriesOf(reply[1]));
    } while (cursor !== "0-0" && !this.stopping);
  }

  /**
   * Writes what can be written, then acknowledges it (and what can never be written). A batch is
   * written with one write and one flush per run directory, and acknowledged once on disk.
   */
  private async handle(entries: readonly Entry[]): Promise<void> {
    const done: string[] = [];
    const byRun = new Map<string, Array<Parsed & { id: string }>>();
    for (const [id, fields] of entries) {
      const parsed = this.parse(id, fields);
      if (parsed === null) {
        done.push(id);
        this.unwritten.delete(id);
      } else {
        const list = byRun.get(parsed.prediction.run_id as string) ?? [];
        list.push({ id, ...parsed });
        byRun.set(parsed.prediction.run_id as string, list);
      }
    }
    for (const [runId, list] of byRun) {
      const settled = await this.writeRun(runId, list);
      for (const { id } of list) {
        if (settled) {
          done.push(id);
          this.unwritten.delete(id);
        } else this.unwritten.add(id);
      }
    }
    this.stats.pending = this.unwritten.size;
    if (done.length === 0) return;
    const tx = this.client.multi().xack(this.key, COLLECTOR_GROUP, ...done);
    if (this.options.deleteAcked ?? true) tx.xdel(this.key, ...done);
    await tx.exec();
  }

  /**
   * The entry's prediction and confidences, or null when the entry is settled as it is (gone, or
   * never writable).
   */
  private parse(id: string, fields: Buffer[] | null): Parsed | null {
    if (fields === null) return null; // deleted from the stream after it was read
    const bytes = new Map<string, Buffer>();
    for (let i = 0; i + 1 < fields.length; i += 2)
      bytes.set((fields[i] as Buffer).toString(), fields[i + 1] as Buffer);
    const text = (field: string) => bytes.get(field)?.toString() ?? "";
    const runId = text(RESULT_FIELDS.runId);
    const instanceId = text(RESULT_FIELDS.instanceId);
    const malformed = (why: string) => {
      this.stats.malformed++;
      this.problem(`results entry ${id} dropped: ${why}`);
      return null;
    };
    if (!RUN_ID.test(runId) || runId === "." || runId === "..") {
      return malformed(`run_id "${runId.slice(0, 80)}" is not a run id`);
    }
    let prediction: PredictionRecord;
    try {
      prediction = JSON.parse(text(RESULT_FIELDS.prediction)) as PredictionRecord;
    } catch {
      return malformed("its prediction is not JSON");
    }
    // Checked as every reader of predictions.jsonl checks it: a bad line must never get there.
    const wrong = predictionProblem(prediction);
    if (wrong !== null) return malformed(`not a prediction: ${wrong}`);
    if (prediction.instance_id !== instanceId || prediction.run_id !== runId) {
      return malformed("its prediction does not match its run_id and instance_id");
    }
    const record = bytes.get(RESULT_FIELDS.confidences);
    if (record === undefined) return { prediction }; // an older worker's entry
    // Bad confidences cost the sidecar its record, never the run its prediction.
    try {
      const confidences = decodeConfidences(record, `results entry ${id}`);
      const wrong =
        confidences.instance_id === instanceId
          ? confidencesProblem(prediction, entryOf(confidences))
          : `they are ${confidences.instance_id}'s`;
      if (wrong !== null) throw new Error(`results entry ${id}: confidences: ${wrong}`);
      return { prediction, confidences };
    } catch (error) {
      const message = `${(error as Error).message}: the prediction is written without them`;
      this.problem(message, `confidences:${runId}`);
      return { prediction };
    }
  }

  /** Writes one run's entries of a batch; true when they are settled (written or duplicates). */
  private async writeRun(
    runId: string,
    list: ReadonlyArray<Parsed & { id: string }>,
  ): Promise<boolean> {
    const runDir = join(this.options.out, runId);
    let written: PredictionRecord[];
    try {
      let run = this.runs.get(runId);
      if (run === undefined) {
        const dir = await openRun(runDir);
        if (dir === null) {
          this.problem(
            `no run directory ${runDir} (with its ${MANIFEST}): results of run ${runId} wait in Redis until it exists`,
            `missing:${runId}`,
          );
          return false;
        }
        run = dir;
        this.runs.set(runId, run);
      }
      // Instances already on disk (or twice in the batch) are not written again.
      const confidences = new Map<string, InstanceConfidences>();
      for (const x of list) {
        const id = x.prediction.instance_id;
        if (x.confidences !== undefined && !confidences.has(id)) confidences.set(id, x.confidences);
      }
      written = await run.appendMany(
        list.map((x) => x.prediction),
        confidences,
      );
    } catch (error) {
      this.problem(`cannot write run ${runId}: ${(error as Error).message}`, `write:${runId}`);
      return false;
    }
    this.stats.written += written.length;
    this.stats.duplicates += list.length - written.length;
    const fresh = new Set(written);
    for (const { id, prediction } of list) {
      if (!fresh.has(prediction)) continue;
      this.options.onPrediction?.({
        entryId: id,
        runId,
        instanceId: prediction.instance_id,
        runDir,
        prediction,
      });
    }
    return true;
  }
}

/** Connects (a clear InputError within seconds when Redis cannot be used) and starts reading. */
export async function startCollector(options: CollectorOptions): Promise<Collector> {
  const prefix = checkPrefix(options.prefix ?? DEFAULT_PREFIX);
  checkSweepId(options.sweepId);
  const { client, target } = await connectRedis(options.redis, {
    role: "worker",
    timeoutMs: options.connectTimeoutMs,
    onWarning: options.onProblem,
  });
  client.on("error", () => undefined);
  return new StreamCollector(options, client, target, prefix);
}
