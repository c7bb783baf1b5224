/**
 * How often two refusal judges agree on the same responses (the rule detector and a classifier),
 * over the pairs where both gave a verdict, with a Wilson 95% interval and Cohen's kappa
 * (agreement beyond what the two judges' refusal rates would give by chance).
 */
import type { RefusalResult } from "../refusal/detect.js";
import { EMPTY_ANSWER, THINK_UNCLOSED } from "../refusal/detect.js";
import { type Proportion, wilson } from "../refusal/evaluate.js";

export interface JudgeAgreement {
  /** Pairs where both verdicts are non-null: what every other field counts. */
  n: number;
  agree: number;
  /** agree / n with its Wilson 95% interval. */
  rate: Proportion;
  /** (p_o - p_e) / (1 - p_e); null when n is 0 or both judges give one and the same verdict throughout. */
  cohen_kappa: number | null;
  both_refusal: number;
  rules_only: number;
  classifier_only: number;
  neither: number;
  /** Pairs left out because either verdict is null. */
  unpaired: number;
}

/** The rule detector's verdict, null where it found no answer to judge (as the classifier does). */
export function rulesVerdict(result: RefusalResult): boolean | null {
  return result.pattern === THINK_UNCLOSED ||
    result.pattern === EMPTY_ANSWER ||
    result.kind === "unknown-language"
    ? null
    : result.refusal;
}

/** Agreement of two verdict lists about the same responses, position by position. */
export function judgeAgreement(
  rules: readonly (boolean | null)[],
  classifier: readonly (boolean | null)[],
): JudgeAgreement {
  if (rules.length !== classifier.length) {
    throw new RangeError(
      `judgeAgreement: ${rules.length} rule verdicts but ${classifier.length} classifier verdicts; they must be about the same responses`,
    );
  }
  let [both, rulesOnly, classifierOnly, neither, unpaired] = [0, 0, 0, 0, 0];
  for (const [i, rule] of rules.entries()) {
    const judged = classifier[i];
    if (rule === null || judged === null || judged === undefined) unpaired++;
    else if (rule && judged) both++;
    else if (rule) rulesOnly++;
    else if (judged) classifierOnly++;
    else neither++;
  }
  const n = both + rulesOnly + classifierOnly + neither;
  const agree = both + neither;
  // In counts, exact: kappa = (n * agree - e) / (n^2 - e), e = n^2 * p_e.
  const rulesYes = both + rulesOnly;
  const classifierYes = both + classifierOnly;
  const chance = rulesYes * classifierYes + (n - rulesYes) * (n - classifierYes);
  const kappa = n * n === chance ? null : (n * agree - chance) / (n * n - chance);
  return {
    n,
    agree,
    rate: wilson(agree, n),
    cohen_kappa: kappa,
    both_refusal: both,
    rules_only: rulesOnly,
    classifier_only: classifierOnly,
    neither,
    unpaired,
  };
}
