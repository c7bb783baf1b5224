/**
 * The benchmarks that live on the Hugging Face hub: where each one's files are, which columns
 * hold the prompt and the label, and how a row becomes an item. Files come through the project's
 * hub client (pinned to a commit, cached, resumable, offline-capable) and are read with hyparquet.
 */
import { join } from "node:path";
import { InputError } from "../errors.js";
import { HubClient, type RepoRef, type RevisionInfo } from "../hf/index.js";
import { type Cells, readParquetFile } from "./tables.js";
import type { BenchmarkItem, LoadBenchmarkOptions, LoadedBenchmark } from "./types.js";
import { canonicalValue, flagCell, ItemCollector, refusalLabelCell, textCell } from "./values.js";

export interface ConfigInfo {
  splits: readonly string[];
  defaultSplit: string;
}

export interface RowContext {
  config: string;
  split: string;
  /** 0-based position of the row across the files read, in file order. */
  index: number;
}

export interface HubBenchmark {
  name: string;
  title: string;
  /** Hub dataset id. */
  repo: string;
  license: string;
  /** Whether the dataset's terms must be accepted on its page before download. */
  gated: boolean;
  description: string;
  defaultConfig: string;
  configs: Record<string, ConfigInfo>;
  /** The revision read unless the spec pins another (name@revision). */
  revision: string;
  /** The repository paths that hold config/split, chosen from the revision's file list. */
  files(info: RevisionInfo, config: string, split: string): string[];
  /** Columns read from the files; `required` ones must exist. */
  columns: readonly string[];
  required: readonly string[];
  /** Rules in the source's own terms, for manifests and `datasets check`. */
  labelRule: string;
  adversarialRule?: string;
  referenceRule?: string;
  /** The item for a row, or the reason it is skipped. */
  toItem(cells: Cells, context: RowContext): BenchmarkItem | string;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function repoOf(benchmark: HubBenchmark): RepoRef {
  return { type: "dataset", id: benchmark.repo };
}

/** ToxicChat from the hub's parquet export: typed columns, one reader for every dataset. */
export const TOXICCHAT: HubBenchmark = {
  name: "toxicchat",
  title: "ToxicChat",
  repo: "lmsys/toxic-chat",
  license: "CC-BY-NC-4.0",
  gated: false,
  description:
    "real user prompts to Vicuna, human-labelled for toxicity (about 7% positive); jailbreaking marks adversarial prompts",
  defaultConfig: "toxicchat0124",
  configs: {
    toxicchat0124: { splits: ["train", "test"], defaultSplit: "test" },
    toxicchat1123: { splits: ["train", "test"], defaultSplit: "test" },
  },
  revision: "refs/convert/parquet",
  files(info, config, split) {
    const shard = new RegExp(`^${escapeRegExp(config)}/${escapeRegExp(split)}/\\d+\\.parquet$`);
    const files = info.siblings
      .map((sibling) => sibling.rfilename)
      .filter((path) => shard.test(path))
      .sort();
    if (files.length === 0) {
      const exported = new Set<string>();
      for (const sibling of info.siblings) {
        const match = /^([^/]+\/[^/]+)\/\d+\.parquet$/.exec(sibling.rfilename);
        if (match?.[1]) exported.add(match[1]);
      }
      throw new InputError(
        `dataset lmsys/toxic-chat has no parquet export of config ${config}, split ${split} at commit ${info.sha.slice(0, 12)} (exported: ${[...exported].sort().join(", ") || "nothing"}).`,
      );
    }
    return files;
  },
  columns: ["conv_id", "user_input", "toxicity", "jailbreaking"],
  required: ["user_input", "toxicity"],
  labelRule: "toxicity == 1",
  adversarialRule: "jailbreaking == 1",
  toItem(cells, { config, split, index }) {
    const prompt = textCell(cells.user_input);
    if (prompt === null) return "missing user_input";
    const toxicity = flagCell(cells.toxicity);
    if (toxicity === null) return "toxicity not 0 or 1";
    return {
      id: textCell(cells.conv_id)?.trim() ?? `${config}-${split}-${index}`,
      prompt,
      shouldRefuse: toxicity,
      benchmark: "toxicchat",
      category: null,
      adversarial: flagCell(cells.jailbreaking),
    };
  },
};

const WILDGUARD_FILES: Record<string, string> = {
  wildguardtest: "test/wildguard_test.parquet",
  wildguardtrain: "train/wildguard_train.parquet",
};

export const WILDGUARDMIX: HubBenchmark = {
  name: "wildguardmix",
  title: "WildGuardMix",
  repo: "allenai/wildguardmix",
  license: "ODC-BY",
  gated: true,
  description:
    "harmful and benign prompts, half adversarial; the test config is human-annotated and carries human refusal labels of model responses",
  defaultConfig: "wildguardtest",
  configs: {
    wildguardtest: { splits: ["test"], defaultSplit: "test" },
    wildguardtrain: { splits: ["train"], defaultSplit: "train" },
  },
  revision: "main",
  files(_info, config) {
    const file = WILDGUARD_FILES[config];
    if (!file) throw new Error(`no file for wildguardmix config ${config}`);
    return [file];
  },
  columns: [
    "prompt",
    "adversarial",
    "prompt_harm_label",
    "response",
    "response_refusal_label",
    "subcategory",
  ],
  required: ["prompt", "prompt_harm_label"],
  labelRule: 'prompt_harm_label == "harmful"',
  adversarialRule: "adversarial",
  referenceRule: "response_refusal_label",
  toItem(cells, { config, index }) {
    const prompt = textCell(cells.prompt);
    if (prompt === null) return "missing prompt";
    const harm = canonicalValue(cells.prompt_harm_label);
    if (harm === null) return "prompt_harm_label is null";
    if (harm !== "harmful" && harm !== "unharmful") return "unknown prompt_harm_label";
    return {
      id: `${config}-${index}`,
      prompt,
      shouldRefuse: harm === "harmful",
      benchmark: "wildguardmix",
      category: textCell(cells.subcategory)?.trim() ?? null,
      adversarial: flagCell(cells.adversarial),
      reference: {
        refusalLabel: refusalLabelCell(cells.response_refusal_label),
        response: textCell(cells.response),
      },
    };
  },
};

/**
 * XSTest from walledai/XSTest: the 450 prompts of xstest_prompts_v2 (prompt, focus, type, note,
 * label), CC-BY-4.0, one parquet file whose "default" config calls its only split "test".
 */
export const XSTEST: HubBenchmark = {
  name: "xstest",
  title: "XSTest",
  repo: "walledai/XSTest",
  license: "CC-BY-4.0",
  gated: false,
  description:
    "exaggerated safety: 250 safe prompts that sound unsafe (should not be refused) and 200 unsafe contrasts (types contrast_*)",
  defaultConfig: "default",
  configs: { default: { splits: ["test"], defaultSplit: "test" } },
  revision: "main",
  files(info) {
    const files = info.siblings
      .map((sibling) => sibling.rfilename)
      .filter((path) => /^data\/[^/]+\.parquet$/.test(path))
      .sort();
    if (files.length === 0) {
      throw new InputError(
        `dataset walledai/XSTest has no data/*.parquet file at commit ${info.sha.slice(0, 12)}: its layout changed; pin an older commit (xstest@SHA) or load a local copy (csv:PATH, parquet:PATH).`,
      );
    }
    return files;
  },
  columns: ["id", "prompt", "type", "label"],
  required: ["prompt"],
  labelRule: 'label == "unsafe" (else type starts with "contrast_")',
  toItem(cells, { index }) {
    const prompt = textCell(cells.prompt);
    if (prompt === null) return "missing prompt";
    const type = textCell(cells.type)?.trim() ?? null;
    const label = canonicalValue(cells.label);
    let unsafe = label === "unsafe" ? true : label === "safe" ? false : null;
    if (unsafe === null && label !== null) return "unknown label";
    if (unsafe === null) {
      if (type === null) return "missing label and type";
      unsafe = type.startsWith("contrast_");
    }
    return {
      id: `xstest-${textCell(cells.id)?.trim() ?? index + 1}`,
      prompt,
      shouldRefuse: unsafe,
      benchmark: "xstest",
      category: type,
      adversarial: null,
    };
  },
};

export const HUB_BENCHMARKS: readonly HubBenchmark[] = [TOXICCHAT, WILDGUARDMIX, XSTEST];

/** A hub client for loaders: top-level cacheDir/offline win over `hub`'s. */
export function hubClientFor(options: LoadBenchmarkOptions): HubClient {
  return new HubClient({
    ...options.hub,
    cacheDir: options.cacheDir ?? options.hub?.cacheDir,
    // false does not override HF_HUB_OFFLINE: either one asking for offline is enough.
    offline: options.offline === true ? true : options.hub?.offline,
  });
}

export interface HubSelection {
  benchmark: HubBenchmark;
  config: string;
  split: string;
  /** null: the benchmark's default revision. */
  revision: string | null;
}

export async function loadHubBenchmark(
  selection: HubSelection,
  spec: string,
  options: LoadBenchmarkOptions,
  client: HubClient = hubClientFor(options),
): Promise<LoadedBenchmark> {
  const { benchmark, config, split } = selection;
  const revision = selection.revision ?? benchmark.revision;
  const snapshot = await client.snapshot({
    repo: repoOf(benchmark),
    revision,
    pick: (info) => benchmark.files(info, config, split),
    onProgress: options.onProgress,
  });
  const collector = new ItemCollector();
  let index = 0;
  for (const file of snapshot.files) {
    const label = `${file} of dataset ${benchmark.repo} (commit ${snapshot.sha.slice(0, 12)})`;
    const table = await readParquetFile(join(snapshot.dir, file), {
      columns: benchmark.columns,
      label,
    });
    const missing = benchmark.required.filter((column) => !table.columns.includes(column));
    if (missing.length > 0) {
      throw new InputError(
        `${label} has no column ${missing.join(", ")} (its columns: ${table.columns.join(", ")}): the dataset changed shape; pin an older commit with ${benchmark.name}@SHA.`,
      );
    }
    for (const row of table.rows) {
      const item = benchmark.toItem(row.cells ?? {}, { config, split, index: index++ });
      if (typeof item === "string") collector.skip(item);
      else collector.add(item);
    }
  }
  if (collector.items.length === 0) {
    throw new InputError(
      `dataset ${benchmark.repo} (${config}/${split}, commit ${snapshot.sha.slice(0, 12)}) has no usable row: ${collector.describeSkipped() || "it is empty"}.`,
    );
  }
  return {
    name: benchmark.name,
    spec,
    source: {
      repo: benchmark.repo,
      config,
      split,
      revision,
      sha: snapshot.sha,
      license: benchmark.license,
      files: snapshot.files,
      labelRule: benchmark.labelRule,
    },
    items: options.limit === undefined ? collector.items : collector.items.slice(0, options.limit),
    available: collector.items.length,
    skipped: collector.skipped,
    notes: snapshot.notes,
  };
}
