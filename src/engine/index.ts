/** The DeepConf engine: pure, synchronous, no I/O. */
export * from "./confidence.js";
export * from "./monitor.js";
export * from "./online.js";
export * from "./percentile.js";
export * from "./replay.js";
export * from "./stats.js";
export type * from "./types.js";
export * from "./voting.js";
