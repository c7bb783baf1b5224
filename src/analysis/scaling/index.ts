export * from "./analyze.js";
export * from "./correlation.js";
export * from "./csv.js";
export * from "./report.js";
export * from "./runs.js";
export * from "./scale.js";
export * from "./types.js";
