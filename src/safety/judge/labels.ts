/**
 * A classifier's labels (config.json's id2label) and which of them means "refusal": the one whose
 * name says so (/reject|refus|declin/, negated names such as "non_refusal" aside), else the one
 * the caller names. Models label their classes in many ways (NORMAL / REJECTION, refusal /
 * compliance, LABEL_0 / LABEL_1), and guessing wrong would invert every verdict, so anything
 * unclear is an error that lists the labels.
 */
import { z } from "zod";
import { InputError } from "../../errors.js";

export const REFUSAL_LABEL_PATTERN = /reject|refus|declin/i;
/** "non_refusal", "not-rejected", "NoRefusal": names of the other class. */
const NEGATED = /^(?:non|not|no)[-_ ]?(?:reject|refus|declin)/i;

const id2labelSchema = z.record(z.string().regex(/^\d+$/), z.string().min(1));

/** The labels in class-id order (index = logit position). `where` names the model in errors. */
export function classifierLabels(config: Record<string, unknown>, where: string): string[] {
  const parsed = id2labelSchema.safeParse(config.id2label);
  if (!parsed.success) {
    throw new InputError(
      `${where}: config.json has ${config.id2label === undefined ? "no" : "an invalid"} id2label (class id -> label name, e.g. {"0": "NORMAL", "1": "REJECTION"}): is it a sequence-classification model? Fix config.json or give another model`,
    );
  }
  const entries = Object.entries(parsed.data).map(([id, label]) => [Number(id), label] as const);
  const labels = entries.sort((a, b) => a[0] - b[0]).map(([, label]) => label);
  const contiguous = entries.every(([id], index) => id === index);
  if (!contiguous || labels.length < 2) {
    throw new InputError(
      `${where}: config.json's id2label must name classes 0, 1, ... with at least two labels; it has ${JSON.stringify(parsed.data)}`,
    );
  }
  if (new Set(labels).size !== labels.length) {
    throw new InputError(`${where}: config.json's id2label repeats a label: ${labels.join(", ")}`);
  }
  return labels;
}

/** The label that means refusal: `wanted` (matched case-insensitively when unambiguous) or the guess. */
export function refusalLabelOf(
  labels: readonly string[],
  wanted: string | undefined,
  where: string,
) {
  const list = labels.join(", ");
  if (wanted !== undefined) {
    if (labels.includes(wanted)) return wanted;
    const folded = labels.filter((label) => label.toLowerCase() === wanted.toLowerCase());
    if (folded.length === 1) return folded[0] as string;
    throw new InputError(
      `refusal label "${wanted}" is not a label of ${where}; its labels are ${list}: name one of them`,
    );
  }
  const named = labels.filter((label) => REFUSAL_LABEL_PATTERN.test(label));
  const positive = named.filter((label) => !NEGATED.test(label));
  if (positive.length === 1) return positive[0] as string;
  const why =
    named.length === 0
      ? `none of its labels (${list}) matches ${REFUSAL_LABEL_PATTERN}`
      : `several of its labels (${list}) could mean refusal`;
  throw new InputError(
    `cannot tell which label of ${where} means refusal: ${why}; name it with the refusalLabel option (one of ${list})`,
  );
}
