/**
 * Files for refusal detection: JSONL of responses (`deepconf refusal`), labelled JSONL (the
 * evaluation) and pattern files (JSON or JSON5 holding RefusalOptions).
 *
 * Response lines: {"id"?: string | number | null, "text": string}; other fields are ignored, so a
 * labelled file or a generation log can be read as it is. Labelled lines add
 * "label": "refusal" | "partial" | "compliance" and an optional "trap": string. Blank lines are
 * skipped. The first bad line stops reading with a FileInputError "file:line: field: problem".
 * Labelled lines carry either "label" (a kind: "refusal", "partial", "refuse-then-comply",
 * "compliance") or "refusal": boolean (refusal and partial are true), and optionally "trap" and
 * "language" (ISO 639-1).
 */
import { createReadStream, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import JSON5 from "json5";
import { z } from "zod";
import { FileInputError, InputError } from "../../errors.js";
import {
  REFUSAL_KINDS,
  RefusalDetector,
  type RefusalKind,
  type RefusalOptions,
  type RefusalResult,
} from "./detect.js";

/** How stdin is named in messages. */
export const STDIN_NAME = "<stdin>";

const responseLine = z.object({
  id: z.union([z.string(), z.number()]).nullable().optional(),
  text: z.string(),
});

export const LABELS = ["refusal", "partial", "refuse-then-comply", "compliance"] as const;
export type Label = (typeof LABELS)[number];

const labelledLine = responseLine
  .extend({
    label: z.enum(LABELS).optional(),
    refusal: z.boolean().optional(),
    trap: z.string().min(1).optional(),
    language: z
      .string()
      .regex(/^[a-z]{2,3}$/)
      .optional(),
  })
  .refine((row) => row.label !== undefined || row.refusal !== undefined, {
    path: ["label"],
    message: 'give "label" or "refusal"',
  })
  .refine(
    (row) =>
      row.label === undefined ||
      row.refusal === undefined ||
      row.refusal === (row.label === "refusal" || row.label === "partial"),
    { path: ["refusal"], message: "disagrees with label" },
  );

const EXPECTED: Record<string, string> = {
  id: "a string, a number or null",
  text: "a string",
  label:
    '"refusal", "partial", "refuse-then-comply" or "compliance" (or give "refusal": true|false)',
  refusal: 'true or false (true for a refusal or partial refusal, agreeing with "label")',
  trap: "a non-empty string",
  language: 'an ISO 639-1 code such as "en" or "es"',
};

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

export interface ResponseLine {
  id: string | number | null;
  text: string;
  /** 1-based line number in the file. */
  line: number;
}

export interface LabelledResponse extends ResponseLine {
  /** The fine label, null when the line gave only "refusal". */
  label: Label | null;
  /** Gold binary label: a refusal or partial refusal. */
  refusal: boolean;
  trap: string | null;
  /** The response's language as labelled, null when not given. */
  language: string | null;
}

async function openInput(file: string | null): Promise<{ name: string; stream: Readable }> {
  if (file === null || file === "-") return { name: STDIN_NAME, stream: process.stdin };
  const stream = createReadStream(file, { encoding: "utf8" });
  try {
    await new Promise<void>((resolve, reject) => {
      stream.once("open", () => resolve());
      stream.once("error", reject);
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : String(error);
    throw new InputError(`cannot read ${file}: ${reason}`);
  }
  return { name: file, stream };
}

async function readLines<T extends z.ZodType>(
  file: string | null,
  schema: T,
): Promise<Array<z.infer<T> & { line: number }>> {
  const { name, stream } = await openInput(file);
  const out: Array<z.infer<T> & { line: number }> = [];
  let line = 0;
  for await (const text of createInterface({
    input: stream,
    crlfDelay: Number.POSITIVE_INFINITY,
  })) {
    line++;
    if (text.trim() === "") continue;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new FileInputError(name, line, null, `not valid JSON (${(error as Error).message})`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0] as z.core.$ZodIssue;
      if (
        issue.path.length === 0 ||
        typeof json !== "object" ||
        json === null ||
        Array.isArray(json)
      ) {
        throw new FileInputError(name, line, null, `expected a JSON object, got ${describe(json)}`);
      }
      const field = String(issue.path[0]);
      const value = (json as Record<string, unknown>)[field];
      const problem =
        value === undefined
          ? "missing required field"
          : `expected ${EXPECTED[field] ?? issue.message}, got ${describe(value)}`;
      throw new FileInputError(name, line, field, problem);
    }
    out.push({ ...(parsed.data as object), line } as z.infer<T> & { line: number });
  }
  return out;
}

/** Reads JSONL responses from a file, or from stdin when file is null or "-". */
export async function readResponses(file: string | null): Promise<ResponseLine[]> {
  const rows = await readLines(file, responseLine);
  return rows.map(({ id, text, line }) => ({ id: id ?? null, text, line }));
}

/** Reads a labelled JSONL file (see the module doc). */
export async function readLabelled(file: string): Promise<LabelledResponse[]> {
  const rows = await readLines(file, labelledLine);
  return rows.map(({ id, text, line, label, refusal, trap, language }) => ({
    id: id ?? null,
    text,
    line,
    label: label ?? null,
    refusal: refusal ?? (label === "refusal" || label === "partial"),
    trap: trap ?? null,
    language: language ?? null,
  }));
}

const OPTION_KEYS = [
  "extraRefusal",
  "extraPartial",
  "extraComply",
  "extraNotRefusal",
  "disable",
] as const;

/**
 * Reads a pattern file: a JSON (or JSON5) object with any of extraRefusal, extraPartial,
 * extraComply, extraNotRefusal (arrays of regular-expression sources) and disable (built-in ids), and
 * compiles it, so a bad regular expression or id is reported with the file's name.
 */
export function readPatternsFile(file: string): {
  options: RefusalOptions;
  detector: RefusalDetector;
} {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(
      `cannot read patterns ${file}: ${code === "ENOENT" ? "no such file" : String(error)}`,
    );
  }
  let json: unknown;
  try {
    json = JSON5.parse(text);
  } catch (error) {
    throw new InputError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new InputError(`${file}: expected a JSON object, got ${describe(json)}`);
  }
  for (const key of Object.keys(json)) {
    if (!(OPTION_KEYS as readonly string[]).includes(key)) {
      throw new InputError(`${file}: unknown key "${key}" (expected ${OPTION_KEYS.join(", ")})`);
    }
  }
  const options = json as RefusalOptions;
  try {
    return { options, detector: new RefusalDetector(options) };
  } catch (error) {
    if (error instanceof InputError) throw new InputError(`${file}: ${error.message}`);
    throw error;
  }
}

export interface ClassifiedResponse extends RefusalResult {
  id: string | number | null;
  line: number;
}

/** Classifies every response of a file (stdin when null); reads all before returning. */
export async function classifyFile(
  file: string | null,
  detector: RefusalDetector = new RefusalDetector(),
): Promise<ClassifiedResponse[]> {
  const rows = await readResponses(file);
  return rows.map(({ id, text, line }) => ({ id, line, ...detector.detect(text) }));
}

/** One JSON line per response: {"id", "refusal", "kind", "pattern", "language"}. */
export function resultsJsonLines(results: readonly ClassifiedResponse[]): string {
  return results
    .map(
      ({ id, refusal, kind, pattern, language }) =>
        `${JSON.stringify({ id, refusal, kind, pattern, language })}\n`,
    )
    .join("");
}

/**
 * One tab-separated line per response: id (or "line N" when absent), kind, pattern ("-" when
 * none), language, then a summary line starting with "#". The refusal rate is over the judged
 * responses: unknown-language ones are counted apart.
 */
export function resultsText(results: readonly ClassifiedResponse[]): string {
  const count = Object.fromEntries(REFUSAL_KINDS.map((kind) => [kind, 0])) as Record<
    RefusalKind,
    number
  >;
  const lines = results.map(({ id, line, kind, pattern, language }) => {
    count[kind]++;
    return `${id ?? `line ${line}`}\t${kind}\t${pattern ?? "-"}\t${language}\n`;
  });
  const judged = results.length - count["unknown-language"];
  const refused = count.refusal + count.partial;
  const share = judged === 0 ? "-" : `${((refused / judged) * 100).toFixed(1)}%`;
  const unknown =
    count["unknown-language"] > 0
      ? `; ${count["unknown-language"]} in languages the detector does not read (not judged)`
      : "";
  lines.push(
    `# ${results.length} responses: ${count.refusal} refusal, ${count.partial} partial, ` +
      `${count["refuse-then-comply"]} refuse-then-comply, ${count.compliance} compliance` +
      `${unknown}; refusal rate (full + partial) ${share} of ${judged} judged\n`,
  );
  return lines.join("");
}
