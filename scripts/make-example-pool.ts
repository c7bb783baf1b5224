/**
 * Writes examples/pool.jsonl, the small seeded pool the README's main command replays.
 * Usage: npm run example:pool [-- --out FILE --seed N]
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { syntheticPool } from "./synthetic-pool.js";

const { values } = parseArgs({
  options: {
    out: { type: "string", default: "examples/pool.jsonl" },
    seed: { type: "string", default: "7" },
  },
});

const lines: string[] = [];
for (const trace of syntheticPool({
  seed: Number(values.seed),
  instances: 6,
  tracesPerInstance: 24,
  minTokens: 12,
  maxTokens: 90,
  topk: 20,
  answers: ["refusal", "compliance", "partial"],
})) {
  const rows: number[][] = [];
  for (let p = 0; p < trace.tokens; p++) {
    rows.push(
      Array.from(trace.logprobs.subarray(p * 20, p * 20 + 20), (x) => Math.round(x * 100) / 100),
    );
  }
  lines.push(
    JSON.stringify({
      instance_id: trace.instanceId,
      trace_id: trace.traceId,
      answer: trace.answer,
      topk_logprobs: rows,
    }),
  );
}
writeFileSync(values.out, `${lines.join("\n")}\n`);
console.error(`wrote ${lines.length} traces to ${values.out}`);
