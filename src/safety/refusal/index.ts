/** Refusal detection: pattern library, baseline, evaluation and files. See ./detect.ts. */
export { BASELINE_PREFIXES, type BaselineResult, baselineRefusal } from "./baseline.js";
export {
  CONTENT_WORDS,
  detectRefusal,
  EMPTY_ANSWER,
  LONG_CONTENT_WORDS,
  PIVOT_CONTENT_WORDS,
  RefusalDetector,
  type RefusalKind,
  type RefusalOptions,
  type RefusalResult,
  THINK_UNCLOSED,
} from "./detect.js";
export {
  type BinaryScores,
  binaryScores,
  type Confusion,
  evaluateRefusal,
  type Proportion,
  type RefusalEvaluation,
  wilson,
} from "./evaluate.js";
export {
  type ClassifiedResponse,
  classifyFile,
  type LabelledResponse,
  type ResponseLine,
  readLabelled,
  readPatternsFile,
  readResponses,
  resultsJsonLines,
  resultsText,
  STDIN_NAME,
} from "./files.js";
export { BUILTIN_PATTERNS, type PatternKind, type RefusalPattern } from "./patterns.js";
