/**
 * Reads a pool of recorded traces (JSONL, one trace per line) into per-token confidences.
 *
 * Line format: {"instance_id": string, "trace_id"?: string, "answer": string | null,
 * "topk_logprobs": number[][]} or, instead of the log-probs, "confidences": number[] (the token
 * confidences C_i, as `deepconf pool export` writes them, with the "k" they were computed with;
 * --topk then does not apply).
 * Optional "should_refuse": boolean labels the instance (for `deepconf tune`). Each
 * topk_logprobs row holds one generated position's top-k natural log-probs in any order. Python's json writes -inf as -Infinity and NaN as NaN, and
 * JavaScript's JSON.stringify writes them as null: all three are read as -Infinity, which the
 * engine floors at -1e4. Confidences are computed while reading, so a pool never sits in
 * memory as k numbers per token.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import JSON5 from "json5";
import { z } from "zod";
import { tokenConfidenceAt } from "../engine/confidence.js";
import { FileInputError, InputError } from "../errors.js";
import type { LabelledPoolInstance } from "./run-pool.js";

/** Log-probs are <= 0; a little slack absorbs rounding. A larger value means wrong data. */
const LOGPROB_MAX = 1e-4;

const traceLine = z
  .object({
    instance_id: z.string().min(1),
    trace_id: z.string().min(1).optional(),
    answer: z.string().nullable(),
    topk_logprobs: z.array(z.unknown()).optional(),
    confidences: z.array(z.number().nonnegative()).optional(),
    k: z.number().int().positive().optional(),
    should_refuse: z.boolean().optional(),
  })
  .refine((line) => (line.topk_logprobs === undefined) !== (line.confidences === undefined), {
    path: ["topk_logprobs"],
    message: "give topk_logprobs or confidences (exactly one)",
  });

const EXPECTED: Record<string, string> = {
  instance_id: "a non-empty string",
  trace_id: "a non-empty string",
  answer: "a string or null",
  topk_logprobs:
    'an array with one row of log-probs per generated position (or "confidences" instead, not both)',
  confidences: "an array of token confidences (numbers >= 0)",
  k: "a whole number >= 1",
  should_refuse: "true or false",
};

/** Plain words for the first schema problem of a line: which field, and what is wrong. */
function schemaProblem(issue: z.core.$ZodIssue, json: unknown): [string | null, string] {
  if (issue.path.length === 0) return [null, `expected a JSON object, got ${describe(json)}`];
  const field = issue.path.join(".");
  const value = (json as Record<string, unknown>)[String(issue.path[0])];
  if (value === undefined) return [field, "missing required field"];
  return [field, `expected ${EXPECTED[field] ?? issue.message}, got ${describe(value)}`];
}

function parseJsonLine(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    // Python's json.dumps writes -Infinity / NaN, which only JSON5 reads. Slow path, rare.
    if (!/Infinity|NaN/.test(text)) throw error;
    return JSON5.parse(text);
  }
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** Per-token confidences of one trace; throws FileInputError naming the bad row or value. */
function confidencesOf(
  rows: unknown[],
  topk: number,
  where: (field: string, problem: string) => never,
) {
  const confidences = new Float64Array(rows.length);
  const scratch: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    const field = `topk_logprobs[${i}]`;
    if (!Array.isArray(row)) where(field, `expected an array of log-probs, got ${describe(row)}`);
    if (row.length === 0)
      where(field, "empty row: every generated position needs its top-k log-probs");
    if (row.length < topk) {
      where(field, `has ${row.length} log-probs but --topk ${topk} needs at least ${topk}`);
    }
    scratch.length = row.length;
    for (let j = 0; j < row.length; j++) {
      const value = row[j];
      if (value === null) {
        scratch[j] = Number.NEGATIVE_INFINITY;
      } else if (typeof value === "number") {
        if (value > LOGPROB_MAX) {
          where(
            `${field}[${j}]`,
            `log-prob ${value} is positive: expected natural log-probs (<= 0), not probabilities or negated log-probs`,
          );
        }
        scratch[j] = value;
      } else {
        where(`${field}[${j}]`, `expected a number, got ${describe(value)}`);
      }
    }
    confidences[i] = tokenConfidenceAt(scratch, 0, row.length, topk);
  }
  return confidences;
}

export interface ReadPoolOptions {
  topk: number;
}

/** Reads a pool file; instances in order of first appearance, traces in file order. */
export async function readPool(
  file: string,
  { topk }: ReadPoolOptions,
): Promise<LabelledPoolInstance[]> {
  const instances = new Map<string, LabelledPoolInstance & { ids: Map<string, number> }>();
  const stream = createReadStream(file, { encoding: "utf8" });
  const opened = new Promise<void>((resolve, reject) => {
    stream.once("open", () => resolve());
    stream.once("error", reject);
  });
  try {
    await opened;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : String(error);
    throw new InputError(`cannot read pool ${file}: ${reason}`);
  }

  let lineNumber = 0;
  for await (const text of createInterface({
    input: stream,
    crlfDelay: Number.POSITIVE_INFINITY,
  })) {
    lineNumber++;
    if (text.trim() === "") continue;
    const where = (field: string | null, problem: string): never => {
      throw new FileInputError(file, lineNumber, field, problem);
    };

    let json: unknown;
    try {
      json = parseJsonLine(text);
    } catch (error) {
      where(null, `not valid JSON (${(error as Error).message})`);
    }
    const parsed = traceLine.safeParse(json);
    if (!parsed.success) {
      where(...schemaProblem(parsed.error.issues[0] as z.core.$ZodIssue, json));
    }
    const line = parsed.data as z.infer<typeof traceLine>;

    let instance = instances.get(line.instance_id);
    if (!instance) {
      instance = {
        instanceId: line.instance_id,
        shouldRefuse: line.should_refuse ?? null,
        traces: [],
        ids: new Map(),
      };
      instances.set(line.instance_id, instance);
    }

    const traceId = line.trace_id ?? String(instance.traces.length);
    const seen = instance.ids.get(traceId);
    if (seen !== undefined) {
      where(
        "trace_id",
        `"${traceId}" of instance "${line.instance_id}" already appeared on line ${seen}`,
      );
    }
    instance.ids.set(traceId, lineNumber);
    instance.traces.push({
      traceId,
      answer: line.answer,
      confidences:
        line.confidences !== undefined
          ? Float64Array.from(line.confidences)
          : confidencesOf(line.topk_logprobs as unknown[], topk, where),
    });
  }
  if (instances.size === 0) throw new InputError(`pool ${file} holds no traces`);
  return [...instances.values()].map(({ instanceId, shouldRefuse, traces }) => ({
    instanceId,
    shouldRefuse,
    traces,
  }));
}
