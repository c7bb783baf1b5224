/** Run configuration: the parameter schema, config files and the `deepconf run` flags. */
export * from "./file.js";
export * from "./params.js";
export * from "./run.js";
