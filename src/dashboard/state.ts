/**
 * The dashboard's state as one snapshot: every sweep under --out (progress per sweep and run,
 * shards by state, failures, tokens/s over time, ETA, results so far), the workers (live, and
 * those whose heartbeat stopped, as gone) and the Lambda nodes. Each server-sent event carries a
 * whole snapshot, so a page that reconnects is correct with the next event. Nothing secret goes
 * in: the Redis URL is the redacted one, nodes have names and money only, no environment.
 */
import { listWorkers, type QueueConnection } from "../queue/producer.js";
import { redactSecrets } from "../queue/redis.js";
import { listSweeps, loadSweep, runDir, type SweepManifest } from "../sweep/directory.js";
import { queueView } from "../sweep/queue.js";
import { type RunStatus, type SweepStatus, sweepStatus } from "../sweep/status.js";
import { History, type RatePoint } from "./history.js";
import type { NodesSource, NodesView } from "./nodes.js";
import { ResultsCache, type RunResults } from "./results.js";

/** Sweeps shown, newest first. */
const MAX_SWEEPS = 20;

export interface WorkerRow {
  id: string;
  host: string;
  node: string | null;
  /** The node's GPU when it runs on one of ours, else the device it was told to use. */
  gpu: string;
  models: string[];
  current_shard: { job_id: string; run_id: string; done: number; total: number } | null;
  tokens_per_s: number | null;
  last_heartbeat: string;
  state: "idle" | "busy" | "stopping" | "gone";
}

export interface SweepRow extends Omit<SweepStatus, "runs" | "workers"> {
  name: string;
  created_at: string;
  tokens_per_s: number | null;
  rate: RatePoint[];
  eta_seconds: number | null;
  runs: Array<RunStatus & { results: RunResults | null }>;
}

export interface Snapshot {
  generated_at: string;
  out: string;
  queue: { redis: string | null; prefix: string | null; error: string | null };
  sweeps: SweepRow[];
  workers: WorkerRow[];
  nodes: NodesView;
}

export interface StateOptions {
  out: string;
  connection: QueueConnection | null;
  nodes: NodesSource;
}

export class DashboardState {
  readonly history = new History();
  private readonly results = new ResultsCache();
  private readonly manifests = new Map<string, SweepManifest>();

  constructor(readonly options: StateOptions) {}

  /** The sweep by id (from its directory; cached, sweep.json never changes). */
  async sweep(sweepId: string): Promise<SweepManifest | null> {
    if (!listSweeps(this.options.out).includes(sweepId)) return null;
    let sweep = this.manifests.get(sweepId);
    if (sweep === undefined) {
      sweep = await loadSweep(this.options.out, sweepId);
      this.manifests.set(sweepId, sweep);
    }
    return sweep;
  }

  /** The directory of a run of a sweep under --out, or null for any other id. */
  async runDirOf(runId: string): Promise<string | null> {
    for (const id of listSweeps(this.options.out)) {
      const sweep = await this.sweep(id);
      if (sweep?.runs.some((r) => r.run_id === runId)) return runDir(this.options.out, runId);
    }
    return null;
  }

  async snapshot(): Promise<Snapshot> {
    const now = Date.now();
    const { connection, out } = this.options;
    let queueError: string | null = null;
    const failed = (error: unknown) => {
      queueError ??= redactSecrets(
        `Redis at ${connection?.target.redacted} cannot be used now: ${(error as Error).message}`,
        connection?.target,
      );
      return null;
    };
    const nodes = await this.options.nodes.view();
    const sweeps: SweepRow[] = [];
    for (const id of listSweeps(out).reverse().slice(0, MAX_SWEEPS)) {
      const sweep = (await this.sweep(id)) as SweepManifest;
      const view = connection === null ? null : await queueView(connection, sweep).catch(failed);
      const { workers: _workers, runs, ...status } = await sweepStatus(sweep, out, view);
      const generated = runs.reduce((s, r) => s + r.tokens.generated, 0);
      const rate = this.history.sweepRate(id);
      const perSecond = rate.add(generated, now);
      const left = status.instances.total - status.instances.done;
      const moving = status.state === "running" || status.state === "waiting";
      // Seconds per instance so far (each run's tokens at its pace), over the workers on it.
      const seconds = runs.reduce(
        (sum, r) => sum + (r.tokens.per_second ? r.tokens.generated / r.tokens.per_second : 0),
        0,
      );
      const busy = (view?.workers ?? []).filter((w) => w.current_job?.startsWith(`${id}.`)).length;
      sweeps.push({
        ...status,
        name: sweep.name,
        created_at: sweep.created_at,
        tokens_per_s: perSecond,
        rate: rate.points.slice(-120),
        // Only while something is left to run.
        eta_seconds:
          left === 0
            ? 0
            : moving && status.instances.done > 0 && seconds > 0
              ? (left * seconds) / status.instances.done / Math.max(1, busy)
              : null,
        runs: await Promise.all(
          runs.map(async (run) => ({
            ...run,
            eta_seconds: run.shards.active + run.shards.waiting > 0 ? run.eta_seconds : null,
            results: await this.results.of(run.run_id, runDir(out, run.run_id)),
          })),
        ),
      });
    }
    const live = connection === null ? [] : ((await listWorkers(connection).catch(failed)) ?? []);
    const gpuOf = new Map(nodes.configured ? nodes.nodes.map((n) => [n.name, n.gpu] as const) : []);
    const workers = this.history
      .updateWorkers(live, now)
      .map(({ heartbeat: w, goneSince, tokensPerS }) => {
        const job = w.jobs[0];
        const device =
          w.device === "spec"
            ? "as each job says"
            : w.deviceId === null
              ? w.device
              : `${w.device}:${w.deviceId}`;
        return {
          id: w.id,
          host: w.host,
          node: w.node,
          gpu: (w.node !== null ? gpuOf.get(w.node) : null) ?? device,
          models: w.models,
          current_shard:
            job && goneSince === null
              ? { job_id: job.jobId, run_id: job.runId, done: job.done, total: job.total }
              : null,
          tokens_per_s: tokensPerS,
          last_heartbeat: w.heartbeatAt,
          state: goneSince === null ? w.state : "gone",
        } satisfies WorkerRow;
      });
    return {
      generated_at: new Date(now).toISOString(),
      out,
      queue: {
        redis: connection?.target.redacted ?? null,
        prefix: connection?.prefix ?? null,
        error: queueError,
      },
      sweeps,
      workers,
      nodes,
    };
  }
}
