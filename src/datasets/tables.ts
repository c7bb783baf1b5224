/**
 * Rows out of parquet, CSV and JSONL files, as plain objects keyed by column name. Files that
 * cannot be read at all are InputErrors naming the file; single bad rows are left for the loader
 * to skip and count.
 */
import { readFile } from "node:fs/promises";
import * as zlib from "node:zlib";
import { parse as parseCsv } from "csv-parse/sync";
import {
  asyncBufferFromFile,
  type Compressors,
  type FileMetaData,
  parquetMetadataAsync,
  parquetReadObjects,
  parquetSchema,
} from "hyparquet";
import { InputError } from "../errors.js";

export type Cells = Record<string, unknown>;

export interface TableRow {
  /** 1-based: the line of a JSONL file, the record of a CSV or parquet file. */
  number: number;
  /** null when the row could not be read (see problem). */
  cells: Cells | null;
  problem?: string;
}

export interface Table {
  /** Column names in file order (JSONL: keys in order of first appearance). */
  columns: string[];
  rows: TableRow[];
}

/** Decoders beyond hyparquet's own (UNCOMPRESSED, SNAPPY), from node's zlib where it has them. */
const zstd = (zlib as { zstdDecompressSync?: (input: Uint8Array) => Buffer }).zstdDecompressSync;
const COMPRESSORS: Compressors = {
  GZIP: (input) => new Uint8Array(zlib.unzipSync(input)),
  BROTLI: (input) => new Uint8Array(zlib.brotliDecompressSync(input)),
  ...(zstd ? { ZSTD: (input: Uint8Array) => new Uint8Array(zstd(input)) } : {}),
};
const READABLE_CODECS = new Set(["UNCOMPRESSED", "SNAPPY", ...Object.keys(COMPRESSORS)]);

function missingFile(error: unknown, label: string): InputError | null {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return new InputError(`${label}: no such file`);
  if (code === "EISDIR") return new InputError(`${label} is a folder, not a file`);
  if (code === "EACCES") return new InputError(`${label}: permission denied`);
  return null;
}

export interface ParquetTable extends Table {
  /** Rows in the file, as its metadata says. */
  rowCount: number;
}

/**
 * Reads a parquet file; `columns` limits the read to those columns (ones the file lacks are left
 * out: the caller checks `columns` of the result). `label` names the file in messages.
 */
export async function readParquetFile(
  path: string,
  options: { columns?: readonly string[]; label?: string } = {},
): Promise<ParquetTable> {
  const label = options.label ?? path;
  let metadata: FileMetaData;
  let file: Awaited<ReturnType<typeof asyncBufferFromFile>>;
  try {
    file = await asyncBufferFromFile(path);
    metadata = await parquetMetadataAsync(file);
  } catch (error) {
    throw (
      missingFile(error, label) ??
      new InputError(`${label} is not a readable parquet file (${(error as Error).message})`)
    );
  }
  const columns = parquetSchema(metadata).children.map((child) => child.element.name);
  const wanted = options.columns
    ? columns.filter((column) => options.columns?.includes(column))
    : columns;
  const codecs = new Set<string>();
  for (const group of metadata.row_groups) {
    for (const chunk of group.columns) {
      const codec = chunk.meta_data?.codec;
      if (codec && chunk.meta_data && wanted.includes(chunk.meta_data.path_in_schema[0] ?? "")) {
        codecs.add(codec);
      }
    }
  }
  const unreadable = [...codecs].filter((codec) => !READABLE_CODECS.has(codec));
  if (unreadable.length > 0) {
    throw new InputError(
      `${label} is compressed with ${unreadable.join(", ")}, which this Node.js cannot decode (readable: ${[...READABLE_CODECS].join(", ")}): convert the file (e.g. with pyarrow, compression="snappy") and load it as parquet:PATH${unreadable.includes("ZSTD") ? ", or use Node.js 22.15 or newer, which decodes ZSTD" : ""}.`,
    );
  }
  let rows: Cells[] = [];
  if (wanted.length > 0) {
    try {
      rows = (await parquetReadObjects({
        file,
        columns: wanted,
        compressors: COMPRESSORS,
      })) as Cells[];
    } catch (error) {
      throw new InputError(`${label}: cannot read its rows (${(error as Error).message})`);
    }
  }
  return {
    columns,
    rows: rows.map((cells, index) => ({ number: index + 1, cells })),
    rowCount: Number(metadata.num_rows),
  };
}

/** Reads a CSV file with a header line (UTF-8, optional BOM); short rows lack the last cells. */
export async function readCsvFile(path: string): Promise<Table> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw missingFile(error, path) ?? error;
  }
  let records: string[][];
  try {
    records = parseCsv(text, { bom: true, skip_empty_lines: true, relax_column_count: true });
  } catch (error) {
    throw new InputError(`${path}: not valid CSV: ${(error as Error).message}`);
  }
  const [header, ...body] = records;
  if (!header) return { columns: [], rows: [] };
  const columns = header.map((name) => name.trim());
  const rows = body.map((record, index) => {
    const cells: Cells = {};
    columns.forEach((column, i) => {
      if (i < record.length) cells[column] = record[i];
    });
    return { number: index + 1, cells };
  });
  return { columns, rows };
}

/** Reads JSON Lines: one object per line; blank lines are ignored, bad lines kept as problems. */
export async function readJsonlFile(path: string): Promise<Table> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw missingFile(error, path) ?? error;
  }
  const columns = new Set<string>();
  const rows: TableRow[] = [];
  text
    .replace(/^\uFEFF/, "")
    .split(/\r?\n/)
    .forEach((line, index) => {
      if (line.trim() === "") return;
      const number = index + 1;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        rows.push({ number, cells: null, problem: "not valid JSON" });
        return;
      }
      if (value === null || typeof value !== "object" || Array.isArray(value)) {
        rows.push({ number, cells: null, problem: "not a JSON object" });
        return;
      }
      for (const key of Object.keys(value)) columns.add(key);
      rows.push({ number, cells: value as Cells });
    });
  return { columns: [...columns], rows };
}
