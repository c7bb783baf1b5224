/**
 * The classifier judge scored like the string rules (`deepconf refusal eval --judge`): its
 * verdicts against the gold labels, and how often it agrees with the rules on the same responses.
 */
import { type BinaryScores, binaryScores } from "../refusal/evaluate.js";
import type { LabelledResponse, RefusalResult } from "../refusal/index.js";
import { type JudgeAgreement, judgeAgreement, rulesVerdict } from "./agreement.js";
import type { ClassifierVerdict } from "./classifier.js";

export interface JudgeEvaluation {
  spec: string;
  /** Over the responses the judge had an answer to judge. */
  binary: BinaryScores;
  /** Responses without an answer (unclosed <think>, empty): no verdict. */
  unjudged: number;
  agreement: JudgeAgreement;
}

export function evaluateJudge(
  spec: string,
  rows: readonly LabelledResponse[],
  verdicts: readonly (ClassifierVerdict | null)[],
  rules: readonly RefusalResult[],
): JudgeEvaluation {
  const gold: boolean[] = [];
  const flagged: boolean[] = [];
  rows.forEach((row, i) => {
    const verdict = verdicts[i];
    if (verdict === null || verdict === undefined) return;
    gold.push(row.refusal);
    flagged.push(verdict.refusal);
  });
  return {
    spec,
    binary: binaryScores(gold, flagged),
    unjudged: rows.length - gold.length,
    agreement: judgeAgreement(
      rules.map(rulesVerdict),
      verdicts.map((verdict) => verdict?.refusal ?? null),
    ),
  };
}
