/** `deepconf datasets list` and `deepconf datasets check`: commander wiring only. */

import Table from "cli-table3";
import type { Command } from "commander";
import {
  checkDataset,
  type FieldMap,
  formatCheck,
  KNOWN_BENCHMARKS,
  LOCAL_FORMATS,
  listBenchmarks,
} from "../datasets/index.js";
import { InputError } from "../errors.js";
import type { HubClientOptions } from "../hf/index.js";
import { cacheDirFromEnv } from "../hf/settings.js";
import type { CliIO } from "./io.js";
import { downloadProgress } from "./progress.js";

export interface FieldMapFlags {
  promptField?: string;
  labelField?: string;
  refuseValue?: string[];
  complyValue?: string[];
  idField?: string;
  categoryField?: string;
  adversarialField?: string;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** The options that map a local file's columns (jsonl:, csv:, parquet:), for any command. */
export function addFieldMapOptions(command: Command): Command {
  return command
    .option("--prompt-field <name>", "local files: the prompt column (default prompt)")
    .option("--label-field <name>", "local files: the label column (default label)")
    .option(
      "--refuse-value <value>",
      "local files: a label value meaning should-refuse (repeatable; default 1/true, yes, harmful, unsafe, toxic)",
      collect,
    )
    .option(
      "--comply-value <value>",
      "local files: a label value meaning should-not-refuse (repeatable; default 0/false, no, unharmful, safe, benign, harmless, non-toxic; with only --refuse-value: every other value)",
      collect,
    )
    .option("--id-field <name>", "local files: the id column (default id, else the row number)")
    .option("--category-field <name>", "local files: the category column (default category)")
    .option(
      "--adversarial-field <name>",
      "local files: the adversarial 0/1 column (default adversarial)",
    );
}

/** The field map the flags describe; undefined when none was given. */
export function fieldMapFrom(flags: FieldMapFlags): FieldMap | undefined {
  const map: FieldMap = {
    promptField: flags.promptField,
    labelField: flags.labelField,
    refuseValue: flags.refuseValue,
    complyValue: flags.complyValue,
    idField: flags.idField,
    categoryField: flags.categoryField,
    adversarialField: flags.adversarialField,
  };
  const given = Object.entries(map).filter(([, value]) => value !== undefined);
  return given.length === 0 ? undefined : (Object.fromEntries(given) as FieldMap);
}

interface CheckFlags extends FieldMapFlags {
  cacheDir: string;
  offline?: boolean;
  json?: boolean;
}

export interface DatasetsCommandOptions {
  /** Hub settings beyond the environment's (endpoint, token, retries); for tests. */
  hub?: HubClientOptions;
}

export function registerDatasets(
  program: Command,
  io: CliIO,
  options: DatasetsCommandOptions = {},
): void {
  const datasets = program
    .command("datasets")
    .summary("list the safety benchmarks and check access to them");

  datasets
    .command("list")
    .summary("the known benchmarks, their source and license")
    .option("--json", "print one JSON document")
    .action((flags: { json?: boolean }) => {
      const listing = listBenchmarks();
      if (flags.json) {
        io.stdout(
          `${JSON.stringify({
            benchmarks: listing.map((entry) => ({
              name: entry.name,
              title: entry.title,
              source: entry.source,
              default_spec: entry.defaultSpec,
              configs: entry.configs,
              license: entry.license,
              access: entry.access,
              description: entry.description,
            })),
            local_formats: LOCAL_FORMATS.map((format) => `${format}:PATH`),
          })}\n`,
        );
        return;
      }
      const table = new Table({
        head: ["name", "source", "default", "license", "access"],
        style: { head: [], border: [], compact: true },
      });
      for (const entry of listing) {
        table.push([entry.name, entry.source, entry.defaultSpec, entry.license, entry.access]);
      }
      const described = listing.map((entry) => `  ${entry.name}: ${entry.description}`);
      io.stdout(
        `${table.toString()}\n\n${described.join("\n")}\n\n` +
          `Spec: NAME[:CONFIG[:SPLIT]][@REVISION], e.g. toxicchat:toxicchat1123:train; local files as ` +
          `${LOCAL_FORMATS.map((format) => `${format}:PATH`).join(", ")} (map their columns with ` +
          "--prompt-field, --label-field, --refuse-value). Gated datasets need HF_TOKEN and " +
          "accepted terms: `deepconf datasets check NAME` says what is missing.\n",
      );
    });

  addFieldMapOptions(
    datasets
      .command("check")
      .summary("can this machine read a benchmark? token, terms, revision, rows, label rates")
      .description(
        "Checks whether HF_TOKEN is set and valid (without printing it), whether the dataset " +
          "can be read (gated? terms accepted?), which commit the revision points to, and, once " +
          "the data is downloaded (into the cache, as a run would), its rows and the rates of its " +
          "labels. When something is missing it says exactly what to do. Exit status 2 when the " +
          `benchmark cannot be read. NAME: ${KNOWN_BENCHMARKS.join(", ")}, with [:CONFIG[:SPLIT]]` +
          `[@REVISION], or ${LOCAL_FORMATS.map((format) => `${format}:PATH`).join(", ")}.`,
      )
      .argument("<name>", "benchmark spec, e.g. wildguardmix or csv:my-prompts.csv")
      .option("--cache-dir <dir>", "downloads", cacheDirFromEnv())
      .option("--offline", "never use the network (also HF_HUB_OFFLINE=1)")
      .option("--json", "print one JSON document"),
  ).action(async (name: string, flags: CheckFlags) => {
    const progress = downloadProgress();
    const check = await checkDataset(name, {
      cacheDir: flags.cacheDir,
      offline: flags.offline,
      hub: options.hub,
      fieldMap: fieldMapFrom(flags),
      onProgress: progress.onProgress,
    }).finally(progress.stop);
    io.stdout(flags.json ? `${JSON.stringify(check)}\n` : formatCheck(check));
    if (!check.ok) {
      throw new InputError(
        `${check.spec} cannot be read (${check.access}): see ${flags.json ? '"todo" in the JSON' : '"What to do"'} above.`,
      );
    }
  });
}
