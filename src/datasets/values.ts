/**
 * Reading cells defensively: parquet gives bigints for INT64, booleans, numbers or null; CSV and
 * JSONL give text or anything JSON holds. These helpers turn a cell into what a loader needs, or
 * null when it cannot, so that the row is skipped and counted instead of mislabelled.
 */
import type { BenchmarkItem, RefusalLabel, SkippedRows } from "./types.js";

/** Text with something in it (kept as it is, not trimmed); numbers spelled out; else null. */
export function textCell(value: unknown): string | null {
  if (typeof value === "string") return value.trim() === "" ? null : value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (typeof value === "bigint") return String(value);
  return null;
}

/**
 * A cell as a comparable value: trimmed, lower case, true/false as 1/0, numbers in their
 * shortest form ("1.0" -> "1"); null when empty or not a scalar.
 */
export function canonicalValue(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "boolean") return value ? "1" : "0";
  if (typeof value === "bigint") return String(value);
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : null;
  if (typeof value !== "string") return null;
  const text = value.trim().toLowerCase();
  if (text === "") return null;
  if (text === "true") return "1";
  if (text === "false") return "0";
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(text)) return String(Number(text));
  return text;
}

/** 0/1 flags (toxicity, jailbreaking, adversarial): true, false, or null when neither. */
export function flagCell(value: unknown): boolean | null {
  const canonical = canonicalValue(value);
  if (canonical === "1") return true;
  if (canonical === "0") return false;
  return null;
}

/** WildGuardMix's response_refusal_label. */
export function refusalLabelCell(value: unknown): RefusalLabel | null {
  const canonical = canonicalValue(value);
  return canonical === "refusal" || canonical === "compliance" ? canonical : null;
}

/** Collects a benchmark's items, counting skipped rows by reason and keeping ids unique. */
export class ItemCollector {
  readonly items: BenchmarkItem[] = [];
  readonly skipped: SkippedRows = { count: 0, reasons: {} };
  readonly #ids = new Set<string>();

  skip(reason: string): void {
    this.skipped.count++;
    this.skipped.reasons[reason] = (this.skipped.reasons[reason] ?? 0) + 1;
  }

  /** Adds an item; a repeated id gets "#2", "#3", ... so every id stays unique. */
  add(item: BenchmarkItem): void {
    let id = item.id;
    for (let n = 2; this.#ids.has(id); n++) id = `${item.id}#${n}`;
    this.#ids.add(id);
    this.items.push(id === item.id ? item : { ...item, id });
  }

  /** "3 missing prompt, 2 unknown label" (most frequent first). */
  describeSkipped(): string {
    return describeReasons(this.skipped.reasons);
  }
}

export function describeReasons(reasons: Record<string, number>): string {
  return Object.entries(reasons)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([reason, count]) => `${count} ${reason}`)
    .join(", ");
}
