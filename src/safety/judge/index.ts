/**
 * Refusal judges beside the string rules: a sequence-classification model named by a
 * `classifier:HUB_ID|PATH` spec, and the agreement between two judges' verdicts.
 */
export { type JudgeAgreement, judgeAgreement, rulesVerdict } from "./agreement.js";
export {
  ClassifierJudge,
  type ClassifierJudgeOptions,
  type ClassifierModelInfo,
  type ClassifierVerdict,
  classifierInput,
  DEFAULT_BATCH_SIZE,
  loadClassifierJudge,
} from "./classifier.js";
export { evaluateJudge, type JudgeEvaluation } from "./evaluate.js";
export {
  CLASSIFIER_ONNX_FILES,
  type ClassifierFiles,
  type ClassifierFilesOptions,
  classifierLayout,
  resolveClassifierFiles,
} from "./files.js";
export { classifierLabels, REFUSAL_LABEL_PATTERN, refusalLabelOf } from "./labels.js";
export { CLASSIFIER_PREFIX, type ClassifierJudgeSpec, parseJudgeSpec } from "./spec.js";
