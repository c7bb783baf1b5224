/** The bundled sample benchmark as a LoadedBenchmark: offline, always there, balanced. */
import { createHash } from "node:crypto";
import type { LoadedBenchmark } from "../types.js";
import { SAMPLE_PROMPTS, SAMPLE_VERSION } from "./prompts.js";

export { SAMPLE_PROMPTS, SAMPLE_VERSION, type SamplePrompt } from "./prompts.js";

/** Written for this project, under its license. */
export const SAMPLE_LICENSE = "MIT";

export function loadSample(limit?: number): LoadedBenchmark {
  const items = SAMPLE_PROMPTS.map((prompt) => ({
    id: prompt.id,
    prompt: prompt.prompt,
    shouldRefuse: prompt.shouldRefuse,
    benchmark: "sample",
    category: prompt.category,
    adversarial: prompt.adversarial,
  }));
  const sha256 = createHash("sha256").update(JSON.stringify(SAMPLE_PROMPTS)).digest("hex");
  return {
    name: "sample",
    spec: "sample",
    source: {
      path: "builtin:sample",
      revision: SAMPLE_VERSION,
      license: SAMPLE_LICENSE,
      sha256,
      labelRule: "hand-labelled: clearly harmful request",
    },
    items: limit === undefined ? items : items.slice(0, limit),
    available: items.length,
    skipped: { count: 0, reasons: {} },
    notes: [],
  };
}
