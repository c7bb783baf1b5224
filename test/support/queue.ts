/**
 * Queue tests against real Redis: the shared one on 127.0.0.1:6379 under a random key prefix per
 * test file (cleaned up afterwards; database 0, never 9), or a private redis-server on a free
 * port when a test must kill it or set a password. Also: the tiny-model JobSpec, run
 * directories for it (empty, or written by a local run), and worker / collector child processes.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { resolveParams } from "../../src/config/params.js";
import { deleteKeysUnder } from "../../src/queue/redis.js";
import { InferenceWorker } from "../../src/queue/worker.js";
import { MANIFEST, RunDirectory, type RunManifest } from "../../src/runs/directory.js";
import { runJob } from "../../src/runs/job.js";
import { JobResources } from "../../src/runs/resources.js";
import { type JobSpec, manifestConfig, runIdOf } from "../../src/runs/spec.js";
import type { InstanceConfidences, PredictionRecord } from "../../src/safety/types.js";
import { freePort } from "./ports.js";
import { tinyModelDir } from "./tiny-model.js";

export const SHARED_REDIS = "redis://127.0.0.1:6379";
export const REPO = fileURLToPath(new URL("../..", import.meta.url));

/** A key prefix of its own for a test file. */
export function testPrefix(): string {
  return `dctest-${randomBytes(4).toString("hex")}`;
}

/** Deletes every key under the prefix (and nothing else). */
export async function deletePrefix(prefix: string, url = SHARED_REDIS): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    await deleteKeysUnder(redis, prefix);
  } finally {
    redis.disconnect();
  }
}

export function redisClient(url = SHARED_REDIS): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1 });
}

export interface PrivateRedis {
  port: number;
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * A redis-server of the test's own on a free port (or `port`: the same one again after a kill),
 * without persistence; stop() kills it (SIGKILL).
 */
export async function startPrivateRedis(
  extra: string[] = [],
  port?: number,
): Promise<PrivateRedis> {
  port ??= await freePort();
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...extra],
    { stdio: "ignore" },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  };
  // Up once it accepts a connection (it may want a password: no command is sent).
  const accepts = () =>
    new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
  for (let i = 0; !(await accepts()); i++) {
    if (i > 50) {
      await stop();
      throw new Error(`redis-server on port ${port} did not start`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { port, url: `redis://127.0.0.1:${port}`, process: child, stop };
}

/** The tiny model's spec: short answers, a few traces, `limit` sample instances. */
export function tinySpec(overrides: Partial<JobSpec> = {}, limit = 6): JobSpec {
  return {
    version: 1,
    model: { id: tinyModelDir(), revision: null, hash: null },
    dtype: "fp32",
    device: "cpu",
    benchmark: { spec: "sample", revision: "1" },
    method: "deepconf-low",
    params: resolveParams({
      method: "deepconf-low",
      overrides: { maxNewTokens: 6, budget: 4, warmup: 2, window: 3, tail: 3, parallel: 2 },
    }).params,
    seed: 5,
    refusal: null,
    fieldMap: null,
    measureBaseline: false,
    selection: { limit, shard: null, ids: null },
    ...overrides,
  };
}

/** The spec's shard `index` of `count`. */
export function shardOf(spec: JobSpec, index: number, count: number): JobSpec {
  return { ...spec, selection: { ...spec.selection, shard: { index, count } } };
}

/** Creates `<out>/<run id>/` with a minimal manifest, as `sweep launch` will. */
export async function createRunDir(out: string, spec: JobSpec): Promise<string> {
  const runId = runIdOf(spec);
  const dir = join(out, runId);
  const directory = await RunDirectory.open(dir, {
    run_id: runId,
    created_at: new Date().toISOString(),
    config: manifestConfig(spec),
    spec,
  });
  directory.close();
  return dir;
}

export interface Child {
  process: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Resolves once `pattern` has been printed (rejects after `timeoutMs`). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs a TypeScript entry point of this repository in a child process (node --import tsx). */
export function spawnTs(entry: string, args: string[]): Child {
  const child = spawn(process.execPath, ["--import", "tsx", join(REPO, entry), ...args], {
    cwd: REPO,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, FORCE_COLOR: "0" },
  });
  let text = "";
  const waiters: Array<() => void> = [];
  const onData = (chunk: Buffer) => {
    text += chunk.toString();
    for (const wake of waiters.splice(0)) wake();
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    // "close": the process has exited and everything it printed has been read.
    child.once("close", (code, signal) => {
      for (const wake of waiters.splice(0)) wake();
      resolve({ code, signal });
    }),
  );
  const waitFor = (pattern: RegExp, timeoutMs = 30_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${pattern} in:\n${text}`)),
        timeoutMs,
      );
      const check = () => {
        if (pattern.test(text)) {
          clearTimeout(timer);
          resolve();
        } else if (child.exitCode !== null || child.signalCode !== null) {
          clearTimeout(timer);
          reject(new Error(`exited before ${pattern}:\n${text}`));
        } else waiters.push(check);
      };
      check();
    });
  return { process: child, output: () => text, waitFor, exited };
}

/** Waits until `check` returns a value other than undefined/false, polling. */
export async function until<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 30_000, everyMs = 100, what = "a condition" } = {},
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * Every line of a predictions file, duplicates included (the project's reader drops them, which
 * would hide a write that happened twice): what "exactly once" is checked against.
 */
export async function predictionLines(path: string): Promise<PredictionRecord[]> {
  if (!existsSync(path)) return [];
  return (await readFile(path, "utf8"))
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as PredictionRecord);
}

/**
 * The spec run to completion in this process (a fresh model cache entry, closed after): what
 * queued runs are compared with. Calling it first also derives the model's graph once, before
 * several workers would each do it.
 */
export async function inProcessPredictions(
  spec: JobSpec,
  cacheDir: string,
): Promise<PredictionRecord[]> {
  const predictions: PredictionRecord[] = [];
  const resources = new JobResources({ cacheDir });
  try {
    await runJob(
      spec,
      { finished: new Set(), append: async (p) => void predictions.push(p) },
      {
        resources,
      },
    );
  } finally {
    await resources.close();
  }
  return predictions;
}

/**
 * The spec run to completion in this process into `<out>/<run id>/` (created as createRunDir
 * does), written as `deepconf run` writes a run directory: predictions.jsonl and
 * confidences.bin. What a queued run's directory is compared with.
 */
export async function localRunDir(spec: JobSpec, out: string, cacheDir: string): Promise<string> {
  const dir = await createRunDir(out, spec);
  const manifest = JSON.parse(await readFile(join(dir, MANIFEST), "utf8")) as RunManifest;
  const directory = await RunDirectory.open(dir, manifest);
  const resources = new JobResources({ cacheDir });
  try {
    const sink = {
      finished: new Set<string>(),
      append: (p: PredictionRecord, c: InstanceConfidences) => directory.append(p, c),
    };
    await runJob(spec, sink, { resources });
  } finally {
    directory.close();
    await resources.close();
  }
  return dir;
}

/**
 * Derives the tiny model's graph into `cacheDir` once (one instance run here), before several
 * workers would each derive it at the same time.
 */
export async function warmTinyModel(cacheDir: string): Promise<void> {
  await inProcessPredictions(
    { ...tinySpec(), selection: { ...tinySpec().selection, limit: 1 } },
    cacheDir,
  );
}

/** An in-process worker on the shared Redis with test timings (a killed job recovers in ~2 s). */
export function fastWorker(prefix: string, cacheDir: string): Promise<InferenceWorker> {
  return InferenceWorker.start({
    redis: SHARED_REDIS,
    prefix,
    cacheDir,
    heartbeatMs: 300,
    lockDurationMs: 2000,
    stalledIntervalMs: 1000,
  });
}
