/** Every shipped sweep file is valid, and the smoke sweep is what the README promises. */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { parseBenchmarkSpec } from "../../src/datasets/index.js";
import { readSweepFile } from "../../src/sweep/schema.js";

const files = readdirSync("config").filter((f) => f.endsWith(".yaml"));

describe("config/*.yaml", () => {
  test.each(files)("%s is a valid sweep file", (file) => {
    const { file: sweep } = readSweepFile(join("config", file));
    expect(sweep.name).toBe(file.replace(/\.yaml$/, ""));
    // Benchmark specs are checked without the network.
    for (const b of sweep.benchmarks) parseBenchmarkSpec(typeof b === "string" ? b : b.spec);
  });

  test("the smoke sweep: built-in model, bundled sample, >= 2 methods, >= 40 instances, several shards", () => {
    const { file } = readSweepFile("config/smoke.yaml");
    expect(file.models).toEqual(["builtin"]);
    expect(file.benchmarks).toEqual([{ spec: "sample", limit: 24 }]);
    expect(file.methods.length).toBeGreaterThanOrEqual(2);
    const instances = 24 * file.methods.length;
    expect(instances).toBeGreaterThanOrEqual(40);
    expect(Math.ceil(24 / (file.shardSize ?? 50)) * file.methods.length).toBeGreaterThan(2);
  });
});
