/** Refusal detection: pattern tables, languages, baseline, evaluation and files. See ./detect.ts. */
export { BASELINE_PREFIXES, type BaselineResult, baselineRefusal } from "./baseline.js";
export {
  CODE_BLOCK,
  CONTENT_WORDS,
  detectRefusal,
  EMPTY_ANSWER,
  LONG_CONTENT_WORDS,
  PIVOT_CONTENT_WORDS,
  QUANTITIES,
  REFUSAL_KINDS,
  RefusalDetector,
  type RefusalKind,
  type RefusalOptions,
  type RefusalResult,
  STEPS,
  THINK_UNCLOSED,
} from "./detect.js";
export {
  type BinaryScores,
  binaryScores,
  type Confusion,
  type EvaluationError,
  evaluateRefusal,
  evaluateVerdicts,
  type Proportion,
  type RefusalEvaluation,
  wilson,
} from "./evaluate.js";
export {
  type ClassifiedResponse,
  classifyFile,
  LABELS,
  type Label,
  type LabelledResponse,
  type ResponseLine,
  readLabelled,
  readPatternsFile,
  readResponses,
  resultsJsonLines,
  resultsText,
  STDIN_NAME,
} from "./files.js";
export { COVERED_LANGUAGES, identifyLanguage, isCovered, UNDETERMINED } from "./language.js";
export { BUILTIN_PATTERNS, type PatternKind, type RefusalPattern } from "./patterns.js";
