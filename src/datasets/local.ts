/**
 * Benchmarks from local files (jsonl:PATH, csv:PATH, parquet:PATH) with a field mapping. Rows
 * without a prompt or with a missing or unknown label are skipped and counted; a file with no
 * usable row at all is an error that says what was found and how to map it.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { basename, extname, resolve } from "node:path";
import { InputError } from "../errors.js";
import { readCsvFile, readJsonlFile, readParquetFile, type Table } from "./tables.js";
import type { FieldMap, LabelValue, LoadBenchmarkOptions, LoadedBenchmark } from "./types.js";
import { canonicalValue, describeReasons, flagCell, ItemCollector, textCell } from "./values.js";

export const LOCAL_FORMATS = ["jsonl", "csv", "parquet"] as const;
export type LocalFormat = (typeof LOCAL_FORMATS)[number];

/** Label values read as "should refuse" / "should not refuse" unless the field map says. */
export const DEFAULT_REFUSE_VALUES: readonly string[] = ["1", "yes", "harmful", "unsafe", "toxic"];
export const DEFAULT_COMPLY_VALUES: readonly string[] = [
  "0",
  "no",
  "unharmful",
  "safe",
  "benign",
  "harmless",
  "non-toxic",
  "nontoxic",
];

function valueSet(values: LabelValue | LabelValue[], what: string): Set<string> {
  const set = new Set<string>();
  for (const value of Array.isArray(values) ? values : [values]) {
    const canonical = canonicalValue(value);
    if (canonical === null) {
      throw new InputError(`${what}: ${JSON.stringify(value)} is empty; give a label value`);
    }
    set.add(canonical);
  }
  if (set.size === 0) throw new InputError(`${what}: give at least one label value`);
  return set;
}

/** 1 and true read the same, so show them as the user would write them. */
const shown = (value: string) => (value === "1" ? "1/true" : value === "0" ? "0/false" : value);

export interface LabelRule {
  refuse: Set<string>;
  /** null: every non-empty value that is not a refuse value. */
  comply: Set<string> | null;
  describe(field: string): string;
}

export function labelRuleOf(fieldMap: FieldMap = {}): LabelRule {
  const refuse = valueSet(fieldMap.refuseValue ?? [...DEFAULT_REFUSE_VALUES], "refuse values");
  const comply =
    fieldMap.complyValue !== undefined
      ? valueSet(fieldMap.complyValue, "comply values")
      : fieldMap.refuseValue !== undefined
        ? null
        : new Set(DEFAULT_COMPLY_VALUES);
  const both = comply ? [...refuse].filter((value) => comply.has(value)) : [];
  if (both.length > 0) {
    throw new InputError(
      `label value ${both.map(shown).join(", ")} is given both as a refuse and as a comply value`,
    );
  }
  return {
    refuse,
    comply,
    describe: (field) =>
      `${field} in {${[...refuse].map(shown).join(", ")}}` +
      (comply ? ` (not refused: {${[...comply].map(shown).join(", ")}})` : ""),
  };
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function readTable(format: LocalFormat, path: string): Promise<Table> {
  if (format === "jsonl") return readJsonlFile(path);
  if (format === "csv") return readCsvFile(path);
  return readParquetFile(path);
}

export async function loadLocalBenchmark(
  format: LocalFormat,
  path: string,
  options: LoadBenchmarkOptions = {},
): Promise<LoadedBenchmark> {
  const file = resolve(path);
  const fieldMap = options.fieldMap ?? {};
  const rule = labelRuleOf(fieldMap);
  const table = await readTable(format, file);
  const { columns } = table;
  if (table.rows.length === 0) throw new InputError(`${path} holds no rows`);

  const promptField = fieldMap.promptField ?? "prompt";
  const labelField = fieldMap.labelField ?? "label";
  const found = `its ${format === "jsonl" ? "keys" : "columns"}: ${columns.join(", ") || "none"}`;
  const need = (field: string, what: string, option: string) => {
    if (!columns.includes(field)) {
      throw new InputError(
        `${path} has no ${format === "jsonl" ? "key" : "column"} "${field}" for the ${what} (${found}): name the right one with ${option}.`,
      );
    }
  };
  need(promptField, "prompt", "--prompt-field (fieldMap.promptField)");
  need(labelField, "label", "--label-field (fieldMap.labelField)");
  if (fieldMap.idField !== undefined) need(fieldMap.idField, "id", "--id-field");
  if (fieldMap.categoryField !== undefined) {
    need(fieldMap.categoryField, "category", "--category-field");
  }
  if (fieldMap.adversarialField !== undefined) {
    need(fieldMap.adversarialField, "adversarial flag", "--adversarial-field");
  }
  const optional = (given: string | undefined, usual: string) =>
    given ?? (columns.includes(usual) ? usual : null);
  const idField = optional(fieldMap.idField, "id");
  const categoryField = optional(fieldMap.categoryField, "category");
  const adversarialField = optional(fieldMap.adversarialField, "adversarial");

  const name = basename(file, extname(file));
  const collector = new ItemCollector();
  const unknown = new Map<string, number>();
  for (const row of table.rows) {
    const { cells } = row;
    if (cells === null) {
      collector.skip(row.problem ?? "unreadable row");
      continue;
    }
    const prompt = textCell(cells[promptField]);
    if (prompt === null) {
      collector.skip("missing prompt");
      continue;
    }
    const label = canonicalValue(cells[labelField]);
    if (label === null) {
      collector.skip("missing label");
      continue;
    }
    let shouldRefuse: boolean;
    if (rule.refuse.has(label)) shouldRefuse = true;
    else if (rule.comply === null || rule.comply.has(label)) shouldRefuse = false;
    else {
      collector.skip("unknown label");
      unknown.set(label, (unknown.get(label) ?? 0) + 1);
      continue;
    }
    const id = (idField === null ? null : textCell(cells[idField])?.trim()) ?? String(row.number);
    collector.add({
      id,
      prompt,
      shouldRefuse,
      benchmark: name,
      category: categoryField === null ? null : (textCell(cells[categoryField])?.trim() ?? null),
      adversarial: adversarialField === null ? null : flagCell(cells[adversarialField]),
    });
  }

  const unknownNote =
    unknown.size === 0
      ? null
      : `labels that are neither refuse nor comply values: ${[...unknown]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 8)
          .map(([value, count]) => `"${value}" (${count})`)
          .join(
            ", ",
          )}${unknown.size > 8 ? ", ..." : ""}; ${labelField} values meaning "should refuse": ${rule.describe(labelField)}`;
  if (collector.items.length === 0) {
    throw new InputError(
      `${path}: none of its ${table.rows.length} rows is usable (${collector.describeSkipped()})${unknownNote ? `; ${unknownNote}` : ""}. Map the fields with --prompt-field, --label-field, --refuse-value and --comply-value (fieldMap).`,
    );
  }
  const notes: string[] = [];
  if (collector.skipped.count > 0) {
    notes.push(
      `${path}: skipped ${collector.skipped.count} of ${table.rows.length} rows (${describeReasons(collector.skipped.reasons)})`,
    );
  }
  if (unknownNote) notes.push(`${path}: ${unknownNote}`);
  return {
    name,
    spec: `${format}:${path}`,
    source: {
      path: file,
      sha256: await fileSha256(file),
      labelRule: rule.describe(labelField),
    },
    items: options.limit === undefined ? collector.items : collector.items.slice(0, options.limit),
    available: collector.items.length,
    skipped: collector.skipped,
    notes,
  };
}
