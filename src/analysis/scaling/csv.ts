/**
 * A results table: columns `Technique, Source paper, Model, Scale, Benchmark, Performance` and an
 * optional `scale_numeric` (billions of parameters; when empty, Scale is parsed). Header names
 * are matched trimmed and case-insensitively. A row whose scale or performance cannot be read is
 * skipped with its reason; a missing column or a file without any usable row is an InputError.
 */
import { readFile } from "node:fs/promises";
import { parse } from "csv-parse/sync";
import { InputError } from "../../errors.js";
import { parseScale } from "./scale.js";
import type { LoadedResults, ResultRow, SkippedInput } from "./types.js";

const REQUIRED = [
  "Technique",
  "Source paper",
  "Model",
  "Scale",
  "Benchmark",
  "Performance",
] as const;

interface ParsedLine {
  record: string[];
  info: { lines: number };
}

export function parseResultsCsv(text: string, name: string): LoadedResults {
  let lines: ParsedLine[];
  try {
    lines = parse(text, {
      bom: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true,
      info: true,
    }) as unknown as ParsedLine[];
  } catch (error) {
    throw new InputError(`${name}: not a valid CSV file: ${(error as Error).message}`);
  }
  const header = lines[0];
  if (header === undefined) throw new InputError(`${name}: the file is empty`);
  const columns = header.record.map((cell) => cell.trim().toLowerCase());
  const index = (column: string) => columns.indexOf(column.toLowerCase());
  const missing = REQUIRED.filter((column) => index(column) < 0);
  if (missing.length > 0) {
    throw new InputError(
      `${name}: missing column${missing.length > 1 ? "s" : ""} ${missing.map((c) => `"${c}"`).join(", ")} ` +
        `(a results table has ${REQUIRED.join(", ")} and optionally scale_numeric)`,
    );
  }
  const at = Object.fromEntries(REQUIRED.map((column) => [column, index(column)])) as Record<
    (typeof REQUIRED)[number],
    number
  >;
  const numericAt = index("scale_numeric");

  const rows: ResultRow[] = [];
  const skipped: SkippedInput[] = [];
  for (const { record, info } of lines.slice(1)) {
    const origin = `${name}:${info.lines}`;
    const cell = (i: number) => (i >= 0 ? (record[i] ?? "").trim() : "");
    const skip = (reason: string) => skipped.push({ origin, reason });
    const technique = cell(at.Technique);
    const model = cell(at.Model);
    const benchmark = cell(at.Benchmark);
    const scale = cell(at.Scale);
    if (technique === "" || benchmark === "" || model === "") {
      skip("Technique, Model and Benchmark must not be empty");
      continue;
    }
    const performanceText = cell(at.Performance);
    const performance = Number(performanceText);
    if (performanceText === "" || !Number.isFinite(performance)) {
      skip(`Performance "${performanceText}" is not a number`);
      continue;
    }
    const numericText = cell(numericAt);
    let scaleB: number | null;
    if (numericText !== "") {
      scaleB = Number(numericText);
      if (!Number.isFinite(scaleB) || scaleB <= 0) {
        skip(`scale_numeric "${numericText}" is not a positive number`);
        continue;
      }
    } else {
      scaleB = parseScale(scale);
      if (scaleB === null) {
        skip(`Scale "${scale}" is not a size such as 0.6B, 70B or 350M (or give scale_numeric)`);
        continue;
      }
    }
    const source = cell(at["Source paper"]);
    rows.push({
      technique,
      source: source === "" ? null : source,
      model,
      scale: scale === "" ? numericText : scale,
      scale_b: scaleB,
      benchmark,
      performance,
      origin,
    });
  }
  if (rows.length === 0) {
    throw new InputError(
      `${name}: no usable row${skipped.length > 0 ? ` (${skipped.length} skipped, e.g. ${skipped[0]?.origin}: ${skipped[0]?.reason})` : ""}`,
    );
  }
  return { rows, skipped, notes: [] };
}

export async function loadResultsCsv(path: string): Promise<LoadedResults> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new InputError(
      `${path}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  return parseResultsCsv(text, path);
}
