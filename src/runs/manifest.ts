/** manifest.json of a run: its identity (`config`), the full spec, and where things came from. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { LoadedBenchmark } from "../datasets/types.js";
import type { RunManifest } from "./directory.js";
import { BUILTIN_MODEL, type JobSpec, manifestConfig, runIdOf } from "./spec.js";

function packageVersion(name: string): string | null {
  try {
    const url = import.meta.resolve(`${name}/package.json`);
    return JSON.parse(readFileSync(new URL(url), "utf8")).version ?? null;
  } catch {
    return null;
  }
}

function gitCommit(): string | null {
  try {
    return execFileSync("git", ["rev-parse", "HEAD"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return null;
  }
}

export interface ManifestSources {
  runId?: string;
  /** Where each sampling value came from; null when unknown. */
  samplingSource?: Record<string, string> | null;
  /** What is known of the model where the manifest is written (a sweep plan knows less). */
  model: Record<string, unknown>;
  benchmark: Pick<LoadedBenchmark, "spec" | "source" | "available" | "skipped"> & {
    instances: number;
  };
  /** The sweep the run belongs to, if any. */
  sweepId?: string;
}

export function runManifest(spec: JobSpec, sources: ManifestSources): RunManifest {
  const { benchmark } = sources;
  return {
    run_id: sources.runId ?? runIdOf(spec),
    created_at: new Date().toISOString(),
    config: manifestConfig(spec),
    spec,
    sampling_source: sources.samplingSource ?? null,
    ...(sources.sweepId === undefined ? {} : { sweep_id: sources.sweepId }),
    model: {
      name: spec.model.id,
      ...sources.model,
      random_weights: spec.model.id === BUILTIN_MODEL,
    },
    dataset: {
      spec: benchmark.spec,
      source: benchmark.source,
      available: benchmark.available,
      instances: benchmark.instances,
      skipped: benchmark.skipped,
    },
    seeds: {
      run: spec.seed,
      per_instance: 'fnv1a("<seed>:<instance_id>"); trace t uses random stream t of it',
    },
    versions: {
      "deepconf-safety": packageVersion("deepconf-safety"),
      node: process.version,
      "onnxruntime-node": packageVersion("onnxruntime-node"),
      "@huggingface/transformers": packageVersion("@huggingface/transformers"),
    },
    git_commit: gitCommit(),
  };
}
