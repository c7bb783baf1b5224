/**
 * What `deepconf refusal eval` scores against: a labelled JSONL file, or a benchmark whose items
 * carry a model response with a human refusal label (WildGuardMix's test split:
 * `response` and `response_refusal_label`). A benchmark goes through the same loader as a run,
 * so a gated dataset without a token fails with the same words (set HF_TOKEN, accept the terms).
 */
import { existsSync, statSync } from "node:fs";
import { loadBenchmark } from "../../datasets/registry.js";
import type { LoadBenchmarkOptions } from "../../datasets/types.js";
import { InputError } from "../../errors.js";
import { type LabelledResponse, readLabelled } from "./files.js";

export interface EvalSource {
  /** The file, or the benchmark spec with its defaults filled in. */
  name: string;
  rows: LabelledResponse[];
  /** E.g. rows without a response or a label, and the commit a dataset was read at. */
  notes: string[];
}

function looksLikeFile(source: string): boolean {
  return /\.(jsonl|json|ndjson)$/i.test(source) || source.includes("/") || source === "-";
}

/** A labelled file when `source` names one that exists, else a benchmark spec. */
export async function readEvalSource(
  source: string,
  options: LoadBenchmarkOptions = {},
): Promise<EvalSource> {
  if (existsSync(source) && statSync(source).isFile()) {
    return { name: source, rows: await readLabelled(source), notes: [] };
  }
  if (looksLikeFile(source) && !source.includes(":")) {
    throw new InputError(
      `${source}: no such file (give a labelled JSONL file, or a benchmark with refusal labels such as wildguardmix)`,
    );
  }
  const loaded = await loadBenchmark(source, options);
  const rows: LabelledResponse[] = [];
  let missing = 0;
  for (const item of loaded.items) {
    const label = item.reference?.refusalLabel;
    const text = item.reference?.response;
    if (label === undefined || label === null || text === undefined || text === null) {
      missing++;
      continue;
    }
    rows.push({
      id: item.id,
      text,
      line: rows.length + 1,
      label: null,
      refusal: label === "refusal",
      trap: item.adversarial === true ? "adversarial-prompt" : null,
      language: null,
    });
  }
  if (rows.length === 0) {
    throw new InputError(
      `${loaded.spec} has no model responses with a refusal label to score against: use a benchmark that carries them (wildguardmix, its test split) or a labelled JSONL file`,
    );
  }
  const notes = [...loaded.notes];
  if (loaded.source.sha) notes.push(`${loaded.spec} read at commit ${loaded.source.sha}`);
  if (missing > 0) {
    notes.push(
      `${missing} of ${loaded.items.length} items have no response or no refusal label: left out`,
    );
  }
  if (loaded.skipped.count > 0) {
    notes.push(`${loaded.skipped.count} rows skipped by the loader (e.g. no prompt label)`);
  }
  return { name: loaded.spec, rows, notes };
}
