/**
 * Results from run directories: one row per (model, method, benchmark), technique = the method
 * (`baseline` is the Baseline technique), Performance = accuracy in percent (share of scored
 * predictions that are correct; abstentions scored by each run's abstainAs, left out by
 * default), scale = the model's parameter count in billions. Files are only read
 * (runs/predictions.ts, read-only): a last line still being written is ignored, never truncated.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "../../errors.js";
import { duplicatesNote, readPredictions } from "../../runs/predictions.js";
import { type AbstainAs, abstainAsOf, scoredCorrect } from "../../safety/abstain.js";
import { formatScale, scaleFromModelName } from "./scale.js";
import type { LoadedResults, ResultRow, SkippedInput } from "./types.js";

/** The source recorded for techniques measured by this project's own runs. */
export const RUN_SOURCE = "deepconf-safety";

export interface RunRowsOptions {
  /** Model name -> billions of parameters; wins over the manifest and the name. */
  modelScales?: ReadonlyMap<string, number>;
  /** How abstentions are scored; default: each run's recorded abstainAs, else "exclude". */
  abstainAs?: AbstainAs;
}

type Json = Record<string, unknown>;

const asObject = (value: unknown): Json =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json) : {};
const asString = (value: unknown): string | null =>
  typeof value === "string" && value.trim() !== "" ? value : null;

/** A parameter count recorded in the manifest (model.parameters / model.num_parameters). */
function manifestParameters(manifest: Json): number | null {
  const model = asObject(manifest.model);
  for (const value of [model.parameters, model.num_parameters, model.parameter_count]) {
    if (typeof value === "number" && Number.isFinite(value) && value > 0) return value;
  }
  return null;
}

interface Group {
  model: string;
  method: string;
  benchmark: string;
  scale: number;
  label: string;
  correct: number;
  /** Scored predictions (the accuracy's denominator). */
  n: number;
  /** Abstentions left out of n. */
  excluded: number;
  dirs: string[];
}

export async function loadRunResults(
  dirs: readonly string[],
  options: RunRowsOptions = {},
): Promise<LoadedResults> {
  const skipped: SkippedInput[] = [];
  const notes: string[] = [];
  const groups = new Map<string, Group>();
  for (const dir of dirs) {
    const manifestPath = join(dir, "manifest.json");
    if (!existsSync(manifestPath)) {
      throw new InputError(`${dir}: not a run directory (no manifest.json)`);
    }
    let manifest: Json;
    try {
      manifest = asObject(JSON.parse(await readFile(manifestPath, "utf8")));
    } catch {
      throw new InputError(`${manifestPath}: not valid JSON`);
    }
    const config = asObject(manifest.config);
    const model = asString(config.model) ?? asString(asObject(manifest.model).name);
    const method = asString(config.method);
    if (model === null || method === null) {
      throw new InputError(`${manifestPath}: config.model and config.method must be strings`);
    }
    let scale: number;
    let label: string;
    const given = options.modelScales?.get(model);
    const counted = manifestParameters(manifest);
    if (given !== undefined) {
      scale = given;
      label = formatScale(given);
    } else if (counted !== null) {
      scale = counted / 1e9;
      label = formatScale(scale);
    } else {
      const fromName = scaleFromModelName(model);
      if (fromName.scale === null) {
        skipped.push({
          origin: dir,
          reason: `cannot tell the size of model "${model}": ${fromName.reason} (give --model-scale "${model}=0.6B")`,
        });
        continue;
      }
      scale = fromName.scale;
      label = fromName.label;
    }
    const datasetName = asString(asObject(manifest.dataset).spec) ?? asString(config.benchmark);
    const predictionsPath = join(dir, "predictions.jsonl");
    const { predictions, duplicates } = await readPredictions(predictionsPath, {
      mode: "read-only",
    });
    if (duplicates > 0) notes.push(`${dir}: ${duplicatesNote(duplicates)}`);
    if (predictions.length === 0) {
      skipped.push({ origin: dir, reason: "no finished predictions yet" });
      continue;
    }
    const abstainAs = options.abstainAs ?? abstainAsOf(config.params);
    for (const value of predictions) {
      const benchmark = asString(value.benchmark) ?? datasetName;
      if (benchmark === null) {
        throw new InputError(
          `${predictionsPath}: instance ${value.instance_id}: benchmark: missing (and no dataset.spec in the manifest)`,
        );
      }
      const key = JSON.stringify([model, method, benchmark]);
      let group = groups.get(key);
      if (group === undefined) {
        group = { model, method, benchmark, scale, label, correct: 0, n: 0, excluded: 0, dirs: [] };
        groups.set(key, group);
      }
      if (!group.dirs.includes(dir)) group.dirs.push(dir);
      const correct = scoredCorrect(value, abstainAs);
      if (correct === null) {
        group.excluded += 1;
        continue;
      }
      group.n += 1;
      if (correct) group.correct += 1;
    }
  }
  const rows: ResultRow[] = [];
  for (const group of groups.values()) {
    const name = `${group.method} on ${group.benchmark} with ${group.model}`;
    if (group.dirs.length > 1) {
      notes.push(`${name}: ${group.dirs.length} runs pooled (${group.dirs.join(", ")})`);
    }
    if (group.excluded > 0) {
      notes.push(
        `${name}: ${group.excluded} of ${group.n + group.excluded} instances abstained (no answer); accuracy is over the ${group.n} answered; --abstain-as refusal|compliance folds them in`,
      );
    }
    if (group.n === 0) {
      skipped.push({
        origin: group.dirs.join(", "),
        reason: `${name}: every instance abstained (no answer): no accuracy`,
      });
      continue;
    }
    rows.push({
      technique: group.method === "baseline" ? "Baseline" : group.method,
      source: RUN_SOURCE,
      model: group.model,
      scale: group.label,
      scale_b: group.scale,
      benchmark: group.benchmark,
      performance: (100 * group.correct) / group.n,
      origin: group.dirs.join(", "),
    });
  }
  if (rows.length === 0) {
    throw new InputError(
      `no usable run${skipped.length > 0 ? `: ${skipped.map((s) => `${s.origin}: ${s.reason}`).join("; ")}` : ""}`,
    );
  }
  return { rows, skipped, notes };
}
