/** The project's tiny refusal classifier: hand-set bag-of-words weights, BERT-style I/O. */
export * from "./build.js";
export * from "./graph.js";
export * from "./tokenizer.js";
export * from "./weights.js";
