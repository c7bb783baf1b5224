/** The project's own Qwen3-architecture test model: real vocabulary, seeded random weights. */
export * from "./build.js";
export * from "./graph.js";
export * from "./shapes.js";
export * from "./weights.js";
