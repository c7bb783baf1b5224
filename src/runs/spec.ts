/**
 * JobSpec: a job as plain JSON, so a queue can carry it and any process can run it. It names
 * everything that decides the results (model and revision or content hash, dtype, benchmark and
 * revision, method, full params, seed, refusal patterns) plus which instances to run. The run id
 * comes from the spec alone, so every process, and every retry of a shard, agrees on it before
 * anything is downloaded.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { stratifiedSample } from "../datasets/stratified.js";
import type { BenchmarkItem, FieldMap } from "../datasets/types.js";
import { InputError } from "../errors.js";
import { DTYPES } from "../inference/model/index.js";
import { METHODS, type MethodParams } from "../safety/methods.js";
import type { RefusalOptions } from "../safety/refusal/index.js";

/** The built-in tiny test model (random weights, built on first use). */
export const BUILTIN_MODEL = "builtin:qwen3-tiny";

const modelSchema = z.strictObject({
  /** Hub id (org/name), an absolute local folder, or BUILTIN_MODEL. */
  id: z.string().min(1),
  /** Hub revision (a commit sha once pinned); null for local folders and the built-in. */
  revision: z.string().min(1).nullable(),
  /** Local folders: sha256 of the model file(s) for the dtype; null otherwise. */
  hash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
});

const selectionSchema = z.strictObject({
  /** The first N usable instances of the benchmark (part of the run's identity). */
  limit: z.number().int().positive().nullable(),
  /** A seeded stratified sample of those, by label (part of the run's identity). */
  sample: z
    .strictObject({
      n: z.number().int().positive(),
      seed: z.number().int().nonnegative(),
      balanced: z.boolean(),
    })
    .nullable()
    .optional(),
  /** Contiguous shard `index` of `count` equal parts of those instances (not identity). */
  shard: z
    .strictObject({ index: z.number().int().nonnegative(), count: z.number().int().positive() })
    .refine((s) => s.index < s.count, "shard index must be below the shard count")
    .nullable(),
  /** Only these instance ids (not identity). */
  ids: z.array(z.string()).nullable(),
});

export const jobSpecSchema = z.strictObject({
  version: z.literal(1),
  model: modelSchema,
  dtype: z.enum(DTYPES),
  /** Where the job would like to run; not part of the run's identity. */
  device: z.enum(["cpu", "cuda", "webgpu", "auto"]),
  benchmark: z.strictObject({
    /** As loadBenchmark takes it, e.g. "sample", "toxicchat:toxicchat0124:test", "jsonl:/abs". */
    spec: z.string().min(1),
    /** Hub revision, "sha256:<hex>" of a local file, or the bundled sample's version. */
    revision: z.string().min(1).nullable(),
  }),
  method: z.enum(METHODS),
  params: z.custom<MethodParams>(
    (value) => value !== null && typeof value === "object" && !Array.isArray(value),
    "params must be an object",
  ),
  seed: z.number().int().nonnegative(),
  refusal: z.custom<RefusalOptions>().nullable(),
  fieldMap: z.custom<FieldMap>().nullable(),
  /** Also generate Cons@B's complete traces to measure the baseline's tokens. */
  measureBaseline: z.boolean(),
  /**
   * A second refusal judge beside the string rules ("classifier:HUB_ID|PATH"): its verdict is
   * recorded on every trace; the vote still follows the rules. Absent in older specs.
   */
  judge: z.string().min(1).nullable().optional(),
  selection: selectionSchema,
});

export type JobSpec = z.infer<typeof jobSpecSchema>;
export type InstanceSelection = JobSpec["selection"];

/** Reads a spec that came from outside (a queue message, a file); errors name the field. */
export function parseJobSpec(value: unknown, where = "job spec"): JobSpec {
  const parsed = jobSpecSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.join(".") || "(root)";
    throw new InputError(`${where}: ${path}: ${issue?.message ?? "invalid"}`);
  }
  return parsed.data;
}

/** What decides a run's results: the spec without the shard or id subset and the device. */
export function runIdentity(spec: JobSpec) {
  const { device: _device, selection, judge, ...withoutJudge } = spec;
  // No judge adds nothing, so ids of runs without one stay as they were.
  const rest = judge ? { ...withoutJudge, judge } : withoutJudge;
  // An absent sample adds nothing, so ids of runs without one stay as they were.
  return selection.sample
    ? { ...rest, limit: selection.limit, sample: selection.sample }
    : { ...rest, limit: selection.limit };
}

/**
 * A run manifest's `config`: the identity, flat, under the names readers of run directories
 * already use (config.model and config.benchmark are strings). A resumed run must match it.
 */
export function manifestConfig(spec: JobSpec) {
  return {
    model: spec.model.id,
    model_revision: spec.model.revision,
    model_hash: spec.model.hash,
    dtype: spec.dtype,
    benchmark: spec.benchmark.spec,
    benchmark_revision: spec.benchmark.revision,
    method: spec.method,
    params: spec.params,
    seed: spec.seed,
    limit: spec.selection.limit,
    sample: spec.selection.sample ?? null,
    measure_baseline: spec.measureBaseline,
    refusal: spec.refusal,
    field_map: spec.fieldMap,
  };
}

const slug = (text: string) =>
  text
    .replace(/^.*[\\/](?=[^\\/]+[\\/]?$)/, "")
    .replace(/[^A-Za-z0-9.]+/g, "-")
    .replace(/^-|-$/g, "")
    .toLowerCase()
    .slice(0, 40);

/** JSON with object keys sorted, so the hash does not depend on how a spec was built. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** `<benchmark>-<model>-<method>-<hash>`: readable, and unique to the run's identity. */
export function runIdOf(spec: JobSpec): string {
  const hash = createHash("sha256")
    .update(canonicalJson(runIdentity(spec)))
    .digest("hex")
    .slice(0, 8);
  const benchmark = slug(spec.benchmark.spec.replace(/^(jsonl|csv|parquet):/i, ""));
  return `${benchmark}-${slug(spec.model.id)}-${spec.method}-${hash}`;
}

/**
 * The instances a spec selects, in benchmark order: the stratified sample (when given), an id
 * subset, then shard `index` of `count` contiguous, near-equal parts (sizes differ by at most
 * one). The limit is applied when the benchmark is loaded.
 */
export function selectItems(
  items: readonly BenchmarkItem[],
  selection: InstanceSelection,
): BenchmarkItem[] {
  let chosen = selection.sample ? stratifiedSample(items, selection.sample) : [...items];
  if (selection.ids !== null) {
    const wanted = new Set(selection.ids);
    chosen = chosen.filter((item) => wanted.has(item.id));
    const missing = selection.ids.filter((id) => !chosen.some((item) => item.id === id));
    if (missing.length > 0) {
      throw new InputError(
        `the benchmark has no instance ${missing.slice(0, 3).join(", ")}${missing.length > 3 ? ` (and ${missing.length - 3} more)` : ""}`,
      );
    }
  }
  if (selection.shard !== null) {
    const { index, count } = selection.shard;
    const from = Math.floor((index * chosen.length) / count);
    const to = Math.floor(((index + 1) * chosen.length) / count);
    chosen = chosen.slice(from, to);
  }
  return chosen;
}
