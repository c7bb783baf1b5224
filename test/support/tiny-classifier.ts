/**
 * The tiny classifier's output recomputed without its tokenizer.json or ONNX graph: words cut by
 * a plain regular expression, looked up in the hand-set feature lists, mean-pooled (with [CLS]
 * and [SEP]) and put through the head in float64.
 */
import {
  CLASSIFIER_MAX_LENGTH,
  CLASSIFIER_VOCAB,
  FEATURE_WORDS,
  FEATURES,
  HEAD_BIAS,
  HEAD_WEIGHT,
} from "../../src/inference/testclassifier/index.js";

const known = new Set(CLASSIFIER_VOCAB);

/** [CLS], the lower-cased words and punctuation ([UNK] when unknown), [SEP]; cut to fit. */
export function referenceTokens(text: string, maxLength = CLASSIFIER_MAX_LENGTH): string[] {
  const pieces =
    text
      .replace(/\u2019/g, "'")
      .toLowerCase()
      .match(/[a-z0-9]+(?:'[a-z0-9]+)*|[^\sa-z0-9]/g) ?? [];
  const words = pieces.map((piece) => (known.has(piece) ? piece : "[UNK]"));
  return ["[CLS]", ...words.slice(0, maxLength - 2), "[SEP]"];
}

/** Logits [NORMAL, REJECTION] and the probability of REJECTION. */
export function referenceScore(text: string, maxLength = CLASSIFIER_MAX_LENGTH) {
  const tokens = referenceTokens(text, maxLength);
  const logits: [number, number] = [HEAD_BIAS[0], HEAD_BIAS[1]];
  for (const feature of FEATURES) {
    const count = tokens.filter((token) => FEATURE_WORDS[feature].includes(token)).length;
    const [toNormal, toRejection] = HEAD_WEIGHT[feature];
    logits[0] += (count / tokens.length) * toNormal;
    logits[1] += (count / tokens.length) * toRejection;
  }
  const [normal, rejection] = logits;
  return { logits: [normal, rejection], refusal: 1 / (1 + Math.exp(normal - rejection)) };
}
