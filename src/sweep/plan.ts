/**
 * Planning a sweep: resolve every model (the built-in, a local folder and its content hash, or a
 * hub id pinned to a commit) and benchmark (pinned to a commit or a file hash), expand models x
 * benchmarks x methods x seeds into runs, and split each run into shards of `shardSize`
 * instances. Every id comes from the resolved specs alone, so planning the same file again (with
 * the same upstream commits) gives the same sweep, run and job ids. Nothing runs here.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { mergeOverrides, type ParamOverrides, resolveParams } from "../config/params.js";
import { loadBenchmark, parseBenchmarkSpec, SAMPLE_VERSION } from "../datasets/index.js";
import type { FieldMap, LoadedBenchmark } from "../datasets/types.js";
import { HubClient, type HubClientOptions, parseRepoSpec } from "../hf/index.js";
import { resolveModel, sha256OfFile } from "../inference/model/index.js";
import { parameterCountFromConfig } from "../inference/model-size.js";
import { shardJobId } from "../queue/names.js";
import { builtinModelDir } from "../runs/resources.js";
import {
  BUILTIN_MODEL,
  canonicalJson,
  type JobSpec,
  runIdentity,
  runIdOf,
  selectItems,
} from "../runs/spec.js";
import { BUILTIN_MODEL_PARAMS } from "../runs/start.js";
import type { Method } from "../safety/methods.js";
import { DEFAULT_SHARD_SIZE, type SweepFile } from "./schema.js";

export interface PlanOptions {
  cacheDir: string;
  /** Relative model folders and benchmark files are read from here (the sweep file's folder). */
  baseDir: string;
  offline?: boolean;
  /** Hub settings beyond the environment's (tests). */
  hub?: HubClientOptions;
  onNote?: (note: string) => void;
  onDownload?: (file: string, done: number, total: number) => void;
}

export interface PlannedShard {
  jobId: string;
  index: number;
  count: number;
  instanceIds: string[];
}

export interface PlannedRun {
  runId: string;
  /** The run's spec (selection: its limit, no shard). Shard specs add `selection.shard`. */
  spec: JobSpec;
  instances: number;
  shards: PlannedShard[];
  /** What the plan learned about the model: its folder (when local), size, pinned commit. */
  model: { dir: string | null; parameters: number | null; sha: string | null };
  benchmark: Pick<LoadedBenchmark, "source" | "available" | "skipped">;
  samplingSource: Record<string, string>;
}

export interface SweepPlan {
  sweepId: string;
  name: string;
  shardSize: number;
  priority: number | null;
  runs: PlannedRun[];
}

interface ResolvedModelRef {
  ref: JobSpec["model"];
  generation: { file: "generation_config.json" | "config.json"; values: Record<string, unknown> };
  dir: string | null;
  parameters: number | null;
}

const hash8 = (value: unknown) =>
  createHash("sha256").update(canonicalJson(value)).digest("hex").slice(0, 8);

function readJson(path: string): Record<string, unknown> | null {
  return existsSync(path)
    ? (JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>)
    : null;
}

async function resolveSweepModel(
  id: string,
  dtype: JobSpec["dtype"],
  options: PlanOptions,
): Promise<ResolvedModelRef> {
  const { cacheDir, offline } = options;
  if (id === "builtin" || id === BUILTIN_MODEL) {
    const resolved = await resolveModel(await builtinModelDir(cacheDir), { dtype, cacheDir });
    return {
      ref: { id: BUILTIN_MODEL, revision: null, hash: null },
      generation: { file: resolved.generationConfigFile, values: resolved.generationConfig },
      dir: resolved.dir,
      parameters: parameterCountFromConfig(resolved.config),
    };
  }
  const local = isAbsolute(id) ? id : resolve(options.baseDir, id);
  if (existsSync(local)) {
    const resolved = await resolveModel(local, { dtype, cacheDir });
    return {
      ref: { id: local, revision: null, hash: resolved.fileHash },
      generation: { file: resolved.generationConfigFile, values: resolved.generationConfig },
      dir: resolved.dir,
      parameters: parameterCountFromConfig(resolved.config),
    };
  }
  // A hub model: pin the revision and read its small config files; weights stay for workers.
  const repo = parseRepoSpec(id);
  const client = new HubClient({ cacheDir, offline, ...options.hub });
  const snapshot = await client.snapshot({
    repo: { type: "model", id: repo.id },
    revision: repo.revision ?? "main",
    pick: (info) =>
      ["config.json", "generation_config.json"].filter((file) =>
        info.siblings.some((s) => s.rfilename === file),
      ),
  });
  for (const note of snapshot.notes) options.onNote?.(note);
  const config = readJson(join(snapshot.dir, "config.json")) ?? {};
  const generation = readJson(join(snapshot.dir, "generation_config.json"));
  return {
    ref: { id: repo.id, revision: snapshot.sha, hash: null },
    generation: generation
      ? { file: "generation_config.json", values: generation }
      : { file: "config.json", values: config },
    dir: null,
    parameters: parameterCountFromConfig(config),
  };
}

/** The benchmark spec pinned: a hub commit, a local file's sha256, the sample's version. */
async function pinBenchmark(spec: string, loaded: LoadedBenchmark): Promise<JobSpec["benchmark"]> {
  const parsed = parseBenchmarkSpec(spec);
  if (parsed.kind === "sample") return { spec: parsed.spec, revision: SAMPLE_VERSION };
  if (parsed.kind === "local") {
    return {
      spec: `${parsed.format}:${parsed.path}`,
      revision: `sha256:${await sha256OfFile(parsed.path)}`,
    };
  }
  const sha = loaded.source.sha ?? null;
  const head = parsed.spec.replace(/@.*$/, "");
  return sha === null
    ? { spec: parsed.spec, revision: null }
    : { spec: `${head}@${sha}`, revision: sha };
}

/** A local benchmark path relative to the sweep file becomes absolute. */
function absoluteBenchmark(spec: string, baseDir: string): string {
  const parsed = parseBenchmarkSpec(spec);
  if (parsed.kind !== "local" || isAbsolute(parsed.path)) return parsed.spec;
  return `${parsed.format}:${resolve(baseDir, parsed.path)}`;
}

function shardsOf(
  sweepId: string,
  spec: JobSpec,
  ids: string[],
  shardSize: number,
): PlannedShard[] {
  const count = Math.max(1, Math.ceil(ids.length / shardSize));
  const shard = (index: number) => ({ ...spec.selection, shard: { index, count } });
  return Array.from({ length: count }, (_, index) => ({
    jobId: shardJobId(sweepId, { ...spec, selection: shard(index) }),
    index,
    count,
    // The same split as selectItems: contiguous, near-equal parts.
    instanceIds: ids.slice(
      Math.floor((index * ids.length) / count),
      Math.floor(((index + 1) * ids.length) / count),
    ),
  }));
}

export async function planSweep(file: SweepFile, options: PlanOptions): Promise<SweepPlan> {
  const shardSize = file.shardSize ?? DEFAULT_SHARD_SIZE;
  const seeds = file.seeds ?? [0];
  const models = new Map<string, Promise<ResolvedModelRef>>();
  const benchmarks = new Map<
    string,
    Promise<{ loaded: LoadedBenchmark; pinned: JobSpec["benchmark"] }>
  >();
  const drafts: Array<Omit<PlannedRun, "shards"> & { ids: string[] }> = [];

  for (const entry of file.models) {
    const model = typeof entry === "string" ? { id: entry } : entry;
    const dtype = model.dtype ?? "fp32";
    const key = `${model.id}|${dtype}`;
    if (!models.has(key)) models.set(key, resolveSweepModel(model.id, dtype, options));
    const resolved = await (models.get(key) as Promise<ResolvedModelRef>);
    const builtin = resolved.ref.id === BUILTIN_MODEL;
    for (const bench of file.benchmarks) {
      const b = typeof bench === "string" ? { spec: bench } : bench;
      const spec = absoluteBenchmark(b.spec, options.baseDir);
      const fieldMap: FieldMap | null = b.fieldMap ?? null;
      const bkey = JSON.stringify([spec, b.limit ?? null, fieldMap]);
      if (!benchmarks.has(bkey)) {
        benchmarks.set(
          bkey,
          loadBenchmark(spec, {
            cacheDir: options.cacheDir,
            offline: options.offline,
            limit: b.limit,
            fieldMap: fieldMap ?? undefined,
            onProgress: options.onDownload,
          }).then(async (loaded) => {
            for (const note of loaded.notes) options.onNote?.(note);
            return { loaded, pinned: await pinBenchmark(spec, loaded) };
          }),
        );
      }
      const { loaded, pinned } = await (benchmarks.get(bkey) as Promise<{
        loaded: LoadedBenchmark;
        pinned: JobSpec["benchmark"];
      }>);
      for (const m of file.methods) {
        const method: Method = typeof m === "string" ? m : m.method;
        const methodOverrides: ParamOverrides = typeof m === "string" ? {} : (m.params ?? {});
        const { params, samplingSource } = resolveParams({
          method,
          overrides: mergeOverrides(file.params ?? {}, methodOverrides),
          base: builtin ? BUILTIN_MODEL_PARAMS : {},
          generation: resolved.generation,
        });
        for (const seed of seeds) {
          const spec: JobSpec = {
            version: 1,
            model: resolved.ref,
            dtype,
            device: model.device ?? "cpu",
            benchmark: pinned,
            method,
            params,
            seed,
            refusal: file.refusal ?? null,
            ...(file.judge ? { judge: file.judge } : {}),
            fieldMap,
            measureBaseline: file.measureBaseline ?? builtin,
            selection: {
              limit: b.limit ?? null,
              sample: b.sample
                ? { n: b.sample.n, seed: b.sample.seed ?? 0, balanced: b.sample.balanced ?? false }
                : null,
              shard: null,
              ids: null,
            },
          };
          const items = selectItems(loaded.items, { ...spec.selection, shard: null, ids: null });
          drafts.push({
            runId: runIdOf(spec),
            spec,
            instances: items.length,
            ids: items.map((item) => item.id),
            model: {
              dir: resolved.dir,
              parameters: resolved.parameters,
              sha: resolved.ref.revision,
            },
            benchmark: {
              source: loaded.source,
              available: loaded.available,
              skipped: loaded.skipped,
            },
            samplingSource,
          });
        }
      }
    }
  }
  // One run per identity: a sweep that names the same run twice runs it once.
  const unique = [...new Map(drafts.map((d) => [d.runId, d])).values()];
  const sweepId = `${file.name}-${hash8({ shardSize, runs: unique.map((d) => runIdentity(d.spec)) })}`;
  return {
    sweepId,
    name: file.name,
    shardSize,
    priority: file.priority ?? null,
    runs: unique.map(({ ids, ...run }) => ({
      ...run,
      shards: shardsOf(sweepId, run.spec, ids, shardSize),
    })),
  };
}

export interface RunEstimate {
  run_id: string;
  method: string;
  instances: number;
  shards: number;
  /** Every trace runs to max tokens (budget x max tokens per instance; Cons@B measured too). */
  tokens_upper_bound: number;
  /** Online methods: consensus right after the warmup (warmup x max tokens); else the bound. */
  tokens_floor: number;
}

export interface PlanEstimate {
  runs: RunEstimate[];
  instances: number;
  shards: number;
  tokens_upper_bound: number;
  tokens_floor: number;
  /** Given a throughput (tokens/s per GPU) and a price per GPU hour. */
  gpu_hours: { upper_bound: number; floor: number } | null;
  cost: { upper_bound: number; floor: number } | null;
}

export function estimatePlan(
  plan: SweepPlan,
  throughput?: number,
  pricePerHour?: number,
): PlanEstimate {
  const runs = plan.runs.map((run) => {
    const { budget, warmup, maxNewTokens } = run.spec.params;
    const online = run.spec.method === "deepconf-low" || run.spec.method === "deepconf-high";
    const perTrace = run.instances * maxNewTokens;
    const baseline = online && run.spec.measureBaseline ? budget * perTrace : 0;
    return {
      run_id: run.runId,
      method: run.spec.method,
      instances: run.instances,
      shards: run.shards.length,
      tokens_upper_bound: budget * perTrace + baseline,
      tokens_floor: (online ? Math.min(warmup, budget) : budget) * perTrace + baseline,
    };
  });
  const sum = (key: "instances" | "shards" | "tokens_upper_bound" | "tokens_floor") =>
    runs.reduce((s, r) => s + r[key], 0);
  const upper = sum("tokens_upper_bound");
  const floor = sum("tokens_floor");
  const hours =
    throughput && throughput > 0
      ? { upper_bound: upper / throughput / 3600, floor: floor / throughput / 3600 }
      : null;
  return {
    runs,
    instances: sum("instances"),
    shards: sum("shards"),
    tokens_upper_bound: upper,
    tokens_floor: floor,
    gpu_hours: hours,
    cost:
      hours && pricePerHour !== undefined
        ? { upper_bound: hours.upper_bound * pricePerHour, floor: hours.floor * pricePerHour }
        : null,
  };
}
