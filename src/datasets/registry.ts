/**
 * `loadBenchmark(spec)`: the one entry point. A spec is
 *
 *   sample                               the bundled benchmark (offline)
 *   NAME[:CONFIG[:SPLIT]][@REVISION]     a hub benchmark (toxicchat, wildguardmix, xstest)
 *   jsonl:PATH | csv:PATH | parquet:PATH a local file, read with options.fieldMap
 *
 * Empty parts take the defaults ("toxicchat::train"); a hub benchmark may also be named by its
 * repository id (lmsys/toxic-chat). REVISION pins a branch or commit, e.g. the sha a manifest
 * recorded.
 */
import { InputError } from "../errors.js";
import { checkRevision } from "../hf/repo.js";
import { HUB_BENCHMARKS, type HubBenchmark, type HubSelection, loadHubBenchmark } from "./hub.js";
import { LOCAL_FORMATS, type LocalFormat, loadLocalBenchmark } from "./local.js";
import { loadSample, SAMPLE_LICENSE, SAMPLE_PROMPTS } from "./sample/index.js";
import type { LoadBenchmarkOptions, LoadedBenchmark } from "./types.js";

export type BenchmarkSpec =
  | { kind: "sample"; spec: string }
  | ({ kind: "hub"; spec: string } & HubSelection)
  | { kind: "local"; spec: string; format: LocalFormat; path: string };

export const KNOWN_BENCHMARKS: readonly string[] = [
  "sample",
  ...HUB_BENCHMARKS.map((benchmark) => benchmark.name),
];

function knownList(): string {
  return `known benchmarks: ${KNOWN_BENCHMARKS.join(", ")}; local files as ${LOCAL_FORMATS.map((format) => `${format}:PATH`).join(", ")}`;
}

function findHub(name: string): HubBenchmark | undefined {
  const wanted = name.toLowerCase();
  return HUB_BENCHMARKS.find(
    (benchmark) => benchmark.name === wanted || benchmark.repo.toLowerCase() === wanted,
  );
}

/** Parses a spec, filling in defaults; throws an InputError naming what is allowed. */
export function parseBenchmarkSpec(spec: string): BenchmarkSpec {
  const text = spec.trim();
  const local = /^([A-Za-z]+):(.*)$/s.exec(text);
  const format = local?.[1]?.toLowerCase();
  if (local && LOCAL_FORMATS.includes(format as LocalFormat)) {
    const path = local[2]?.trim() ?? "";
    if (path === "") throw new InputError(`"${spec}": give the file's path after ${format}:`);
    return { kind: "local", spec: `${format}:${path}`, format: format as LocalFormat, path };
  }

  const at = text.indexOf("@");
  const head = at < 0 ? text : text.slice(0, at);
  const revision = at < 0 ? null : checkRevision(text.slice(at + 1));
  const [name = "", config = "", split = "", ...rest] = head.split(":");
  if (name.toLowerCase() === "sample") {
    if (head.includes(":") || revision !== null) {
      throw new InputError(`"${spec}": the sample benchmark takes no config, split or revision`);
    }
    return { kind: "sample", spec: "sample" };
  }
  const benchmark = findHub(name);
  if (!benchmark) {
    const file = /\.(jsonl|csv|parquet)$/i.exec(text)?.[1]?.toLowerCase();
    const hint = file ? ` For a local file write ${file}:${text}.` : "";
    throw new InputError(`unknown benchmark "${spec}": ${knownList()}.${hint}`);
  }
  if (rest.length > 0) {
    throw new InputError(
      `"${spec}" has too many parts: expected ${benchmark.name}[:config[:split]][@revision]`,
    );
  }
  const chosenConfig = config || benchmark.defaultConfig;
  const info = benchmark.configs[chosenConfig];
  if (!info) {
    throw new InputError(
      `${benchmark.name} has no config "${config}": choose ${Object.keys(benchmark.configs).join(" or ")} (default ${benchmark.defaultConfig}).`,
    );
  }
  const chosenSplit = split || info.defaultSplit;
  if (!info.splits.includes(chosenSplit)) {
    throw new InputError(
      `${benchmark.name} config ${chosenConfig} has no split "${split}": choose ${info.splits.join(" or ")} (default ${info.defaultSplit}).`,
    );
  }
  return {
    kind: "hub",
    spec: `${benchmark.name}:${chosenConfig}:${chosenSplit}${revision === null ? "" : `@${revision}`}`,
    benchmark,
    config: chosenConfig,
    split: chosenSplit,
    revision,
  };
}

/**
 * Loads a benchmark's items. Hub datasets are downloaded once into the cache (pinned to the
 * commit the revision points to, recorded in `source.sha`) and read from it afterwards; offline,
 * only the cache is used.
 */
export async function loadBenchmark(
  spec: string,
  options: LoadBenchmarkOptions = {},
): Promise<LoadedBenchmark> {
  const { limit } = options;
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 1)) {
    throw new InputError(`the item limit must be a whole number >= 1, got ${limit}`);
  }
  const parsed = parseBenchmarkSpec(spec);
  if (parsed.kind === "sample") return loadSample(limit);
  if (parsed.kind === "local") return loadLocalBenchmark(parsed.format, parsed.path, options);
  return loadHubBenchmark(parsed, parsed.spec, options);
}

export interface BenchmarkListing {
  name: string;
  title: string;
  /** Hub id, or where the data is for the others. */
  source: string;
  /** The spec with defaults filled in. */
  defaultSpec: string;
  configs: Record<string, readonly string[]>;
  license: string;
  access: "bundled" | "public" | "gated";
  description: string;
}

/** The known benchmarks, for `deepconf datasets list`. */
export function listBenchmarks(): BenchmarkListing[] {
  const harmful = SAMPLE_PROMPTS.filter((prompt) => prompt.shouldRefuse).length;
  return [
    {
      name: "sample",
      title: "Sample",
      source: "bundled (written for deepconf-safety)",
      defaultSpec: "sample",
      configs: {},
      license: SAMPLE_LICENSE,
      access: "bundled",
      description: `${SAMPLE_PROMPTS.length} hand-written prompts, ${harmful} clearly harmful and ${SAMPLE_PROMPTS.length - harmful} benign (some XSTest-style); the offline default`,
    },
    ...HUB_BENCHMARKS.map((benchmark) => ({
      name: benchmark.name,
      title: benchmark.title,
      source: `https://huggingface.co/datasets/${benchmark.repo}`,
      defaultSpec: parseBenchmarkSpec(benchmark.name).spec,
      configs: Object.fromEntries(
        Object.entries(benchmark.configs).map(([config, info]) => [config, info.splits]),
      ),
      license: benchmark.license,
      access: benchmark.gated ? ("gated" as const) : ("public" as const),
      description: benchmark.description,
    })),
  ];
}
