/**
 * Runs bench-inference for every shape x traces x prompt length of the report grid, one process
 * each (so no run inherits another's memory), and prints a Markdown table plus the JSON lines.
 *   npm run bench:inference:grid -- [--shapes tiny,qwen3-0.6b] [--traces 1,8,32] [--prompts 32,256,1024]
 */
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    shapes: { type: "string", default: "tiny,qwen3-0.6b" },
    traces: { type: "string", default: "1,8,32" },
    prompts: { type: "string", default: "32,256,1024" },
    "new-tokens": { type: "string", default: "64" },
  },
});
const list = (text: string) => text.split(",").map((x) => x.trim());
const rows: Record<string, unknown>[] = [];
for (const shape of list(values.shapes)) {
  for (const traces of list(values.traces)) {
    for (const prompt of list(values.prompts)) {
      const args = [
        "tsx",
        "scripts/bench-inference.ts",
        "--shape",
        shape,
        "--traces",
        traces,
        "--prompt-tokens",
        prompt,
        "--new-tokens",
        values["new-tokens"],
        "--json",
      ];
      process.stderr.write(`[grid] ${args.slice(2).join(" ")}\n`);
      try {
        const out = execFileSync("npx", args, {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "inherit"],
        });
        const row = JSON.parse(out.trim().split("\n").pop() as string);
        rows.push(row);
        process.stdout.write(`${JSON.stringify(row)}\n`);
      } catch (error) {
        process.stderr.write(`[grid] failed: ${(error as Error).message.split("\n")[0]}\n`);
        rows.push({
          model: shape,
          traces: Number(traces),
          prompt_tokens: Number(prompt),
          error: "failed",
        });
      }
    }
  }
}
const fmt = (x: unknown, digits = 1) => (typeof x === "number" ? x.toFixed(digits) : "-");
const lines = [
  "| model | traces | prompt | ours tok/s | transformers.js tok/s | ratio | roofline tok/s | fraction of roofline | engine overhead |",
  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ...rows.map(
    (r) =>
      `| ${r.model} | ${r.traces} | ${r.prompt_tokens} | ${fmt(r.ours_tokens_per_s)} | ${fmt(r.transformersjs_tokens_per_s)} | ${fmt(r.ratio, 2)} | ${fmt(r.roofline_tokens_per_s)} | ${fmt(r.fraction_of_roofline, 2)} | ${fmt(r.engine_overhead_fraction, 3)} |`,
  ),
];
process.stdout.write(`\n${lines.join("\n")}\n`);
