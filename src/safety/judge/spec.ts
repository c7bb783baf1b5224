/** Judge specs: `classifier:HUB_ID` or `classifier:PATH`, the way a user names a judge model. */
import { InputError } from "../../errors.js";

export interface ClassifierJudgeSpec {
  kind: "classifier";
  /** A model folder or a hub id (org/name, optionally @revision). */
  target: string;
}

export const CLASSIFIER_PREFIX = "classifier:";
const EXAMPLE = "classifier:protectai/distilroberta-base-rejection-v1";
const FORMS = `classifier:HUB_ID or classifier:PATH (e.g. ${EXAMPLE} or classifier:./models/rej)`;

export function parseJudgeSpec(spec: string): ClassifierJudgeSpec {
  const trimmed = spec.trim();
  if (trimmed === "") throw new InputError(`the judge spec is empty: give ${FORMS}`);
  if (trimmed.startsWith(CLASSIFIER_PREFIX)) {
    const target = trimmed.slice(CLASSIFIER_PREFIX.length).trim();
    if (target === "") {
      throw new InputError(`judge spec "${spec}" names no model: give ${FORMS}`);
    }
    return { kind: "classifier", target };
  }
  // "org/name" or "./dir" alone: the kind is missing, and what was meant is plain.
  const kind = /^([A-Za-z][\w-]*):(?!\/\/)/.exec(trimmed)?.[1];
  if (kind === undefined) {
    throw new InputError(
      `judge spec "${spec}" lacks its kind: write ${CLASSIFIER_PREFIX}${trimmed} (the form is ${FORMS})`,
    );
  }
  throw new InputError(`unknown judge kind "${kind}" in "${spec}": the only kind is ${FORMS}`);
}
