/** Safety benchmarks: the bundled sample, ToxicChat, WildGuardMix, XSTest and local files. */
export {
  type Access,
  checkDataset,
  type DatasetCheck,
  formatCheck,
  type LabelRate,
  type TokenCheck,
} from "./check.js";
export { HUB_BENCHMARKS, type HubBenchmark, TOXICCHAT, WILDGUARDMIX, XSTEST } from "./hub.js";
export {
  DEFAULT_COMPLY_VALUES,
  DEFAULT_REFUSE_VALUES,
  LOCAL_FORMATS,
  type LocalFormat,
} from "./local.js";
export {
  type BenchmarkListing,
  type BenchmarkSpec,
  KNOWN_BENCHMARKS,
  listBenchmarks,
  loadBenchmark,
  parseBenchmarkSpec,
} from "./registry.js";
export { SAMPLE_PROMPTS, SAMPLE_VERSION } from "./sample/index.js";
export type {
  BenchmarkItem,
  BenchmarkSource,
  FieldMap,
  LabelValue,
  LoadBenchmarkOptions,
  LoadedBenchmark,
  RefusalLabel,
  SkippedRows,
} from "./types.js";
