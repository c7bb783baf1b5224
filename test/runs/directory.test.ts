/** RunDirectory.append and appendMany: one line per instance, the first wins, one flush a call. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { PREDICTIONS, RunDirectory } from "../../src/runs/directory.js";
import type { PredictionRecord } from "../../src/safety/types.js";
import { testTempDir } from "../support/tiny-model.js";

const manifest = { run_id: "r", created_at: "2026-01-01T00:00:00Z", config: { a: 1 } };
const prediction = (instance_id: string, refused: boolean) =>
  ({ instance_id, should_refuse: true, refused, abstained: false }) as PredictionRecord;
const lines = (dir: string) =>
  readFileSync(join(dir, PREDICTIONS), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as PredictionRecord);

describe("RunDirectory", () => {
  test("appendMany writes each new instance once, in order; append and appendMany agree on what is there", async () => {
    const path = join(testTempDir("run-"), "r");
    const dir = await RunDirectory.open(path, manifest);
    await dir.append(prediction("a", true));
    const written = await dir.appendMany([
      prediction("b", true),
      prediction("a", false), // on disk already
      prediction("c", false),
      prediction("b", false), // twice in the batch
    ]);
    expect(written.map((p) => p.instance_id)).toEqual(["b", "c"]);
    expect(await dir.appendMany([prediction("c", true)])).toEqual([]);
    await dir.append(prediction("b", false));
    dir.close();
    expect(lines(path).map((p) => [p.instance_id, p.refused])).toEqual([
      ["a", true],
      ["b", true],
      ["c", false],
    ]);

    // Reopened: what is on disk is known, and still not written again.
    const again = await RunDirectory.open(path, manifest);
    expect(again.finished.map((p) => p.instance_id)).toEqual(["a", "b", "c"]);
    expect((await again.appendMany([prediction("a", false), prediction("d", true)])).length).toBe(
      1,
    );
    again.close();
    expect(lines(path).map((p) => p.instance_id)).toEqual(["a", "b", "c", "d"]);
  });
});
