/**
 * Sweep files (YAML or JSON): models x benchmarks x methods x seeds, with shared params overrides
 * and refusal patterns, a shard size (instances per job) and a priority. The run-parameter schema
 * is reused as is, so a sweep's `params:` reads and fails exactly like a run config's.
 */
import { z } from "zod";
import { parseYamlText, readTextFile, refusalOptionsSchema } from "../config/file.js";
import { ConfigError, configIssues, paramOverridesSchema } from "../config/params.js";
import { DTYPES } from "../inference/model/index.js";
import { METHODS } from "../safety/methods.js";

const fieldMapSchema = z
  .strictObject({
    promptField: z.string(),
    labelField: z.string(),
    refuseValue: z.union([
      z.string(),
      z.number(),
      z.boolean(),
      z.array(z.union([z.string(), z.number(), z.boolean()])),
    ]),
    complyValue: z.union([
      z.string(),
      z.number(),
      z.boolean(),
      z.array(z.union([z.string(), z.number(), z.boolean()])),
    ]),
    idField: z.string(),
    categoryField: z.string(),
    adversarialField: z.string(),
  })
  .partial();

/** `builtin`, a hub id (org/name[@revision]) or a local folder (relative to the sweep file). */
const modelSchema = z.union([
  z.string().min(1),
  z.strictObject({
    id: z.string().min(1),
    dtype: z.enum(DTYPES).optional(),
    device: z.enum(["cpu", "cuda", "webgpu", "auto"]).optional(),
  }),
]);

const benchmarkSchema = z.union([
  z.string().min(1),
  z.strictObject({
    spec: z.string().min(1),
    /** The first N usable instances. */
    limit: z.number().int().min(1).optional(),
    /** A seeded stratified sample by label: proportional, or balanced. */
    sample: z
      .strictObject({
        n: z.number().int().min(1),
        seed: z.number().int().min(0).optional(),
        balanced: z.boolean().optional(),
      })
      .optional(),
    fieldMap: fieldMapSchema.optional(),
  }),
]);

const methodSchema = z.union([
  z.enum(METHODS),
  z.strictObject({ method: z.enum(METHODS), params: paramOverridesSchema.optional() }),
]);

export const sweepFileSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "letters, digits, '.', '_' and '-', at most 64"),
  description: z.string().optional(),
  models: z.array(modelSchema).min(1),
  benchmarks: z.array(benchmarkSchema).min(1),
  methods: z.array(methodSchema).min(1),
  /** Overrides for every run (a method's own `params` win over these). */
  params: paramOverridesSchema.optional(),
  refusal: refusalOptionsSchema.optional(),
  /** A classifier judge beside the rules for every run: "classifier:HUB_ID" (workers fetch it). */
  judge: z
    .string()
    .regex(/^classifier:.+/, 'a judge spec "classifier:HUB_ID" or "classifier:/abs/path"')
    .optional(),
  seeds: z.array(z.number().int().min(0)).min(1).optional(),
  /** Instances per job (shard). */
  shardSize: z.number().int().min(1).optional(),
  /** BullMQ priority: 1 is the highest; omit for first in, first out. */
  priority: z.number().int().min(1).max(2_097_152).optional(),
  /** Also generate Cons@B's complete traces to measure savings (default: built-in model only). */
  measureBaseline: z.boolean().optional(),
});

export type SweepFile = z.infer<typeof sweepFileSchema>;

export const DEFAULT_SHARD_SIZE = 50;

/** Reads and validates a sweep file; errors name the file and the path (exit 2). */
export function readSweepFile(path: string): { file: SweepFile; text: string } {
  const text = readTextFile(path, "sweep file");
  return { file: parseSweepText(text, path), text };
}

export function parseSweepText(text: string, path: string): SweepFile {
  const result = sweepFileSchema.safeParse(parseYamlText(text, path) ?? {}, { reportInput: true });
  if (!result.success)
    throw new ConfigError(configIssues(result.error, sweepFileSchema, () => path));
  return result.data;
}
