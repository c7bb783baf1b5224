/** The one predictions.jsonl reader: modes, duplicates, old-shape lines and clear errors. */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { readPredictions } from "../../src/runs/predictions.js";
import { testTempDir } from "../support/tiny-model.js";

const line = (fields: Record<string, unknown>) =>
  JSON.stringify({ instance_id: "a", should_refuse: true, refused: true, ...fields });

function file(text: string): string {
  const path = join(testTempDir("predictions-"), "predictions.jsonl");
  writeFileSync(path, text);
  return path;
}

describe("readPredictions", () => {
  test("a missing file is no predictions", async () => {
    const path = join(testTempDir("predictions-"), "predictions.jsonl");
    expect(await readPredictions(path, { mode: "read-only" })).toEqual({
      predictions: [],
      duplicates: 0,
      partialLine: false,
    });
  });

  test("duplicate instance_ids: the first line wins, the rest are counted", async () => {
    const path = file(
      [
        line({ instance_id: "a", refused: true }),
        line({ instance_id: "b", refused: false }),
        line({ instance_id: "a", refused: false }),
        line({ instance_id: "c", refused: null }),
        line({ instance_id: "a", refused: null }),
        "",
      ].join("\n"),
    );
    const read = await readPredictions(path, { mode: "read-only" });
    expect(read.duplicates).toBe(2);
    expect(read.predictions.map((p) => [p.instance_id, p.refused])).toEqual([
      ["a", true],
      ["b", false],
      ["c", null],
    ]);
  });

  test("read-only: a last line without its newline is skipped and the file left alone", async () => {
    const text = `${line({ instance_id: "a" })}\n${line({ instance_id: "b" })}\n{"instance_id": "c", "sho`;
    const path = file(text);
    const read = await readPredictions(path, { mode: "read-only" });
    expect(read.partialLine).toBe(true);
    expect(read.predictions.map((p) => p.instance_id)).toEqual(["a", "b"]);
    expect(readFileSync(path, "utf8")).toBe(text);
    // Even a complete-looking last line is still being written until its newline lands.
    const whole = `${line({ instance_id: "a" })}\n${line({ instance_id: "b" })}`;
    const path2 = file(whole);
    expect((await readPredictions(path2, { mode: "read-only" })).predictions).toHaveLength(1);
    expect(readFileSync(path2, "utf8")).toBe(whole);
  });

  test("repair: a last line without its newline is cut off the file", async () => {
    const complete = `${line({ instance_id: "a" })}\n${line({ instance_id: "b" })}\n`;
    const path = file(`${complete}{"instance_id": "c", "sho`);
    const read = await readPredictions(path, { mode: "repair" });
    expect(read.partialLine).toBe(true);
    expect(read.predictions.map((p) => p.instance_id)).toEqual(["a", "b"]);
    expect(readFileSync(path, "utf8")).toBe(complete);
    // A whole file is left as it is.
    const again = await readPredictions(path, { mode: "repair" });
    expect(again.partialLine).toBe(false);
    expect(readFileSync(path, "utf8")).toBe(complete);
  });

  test("old-shape lines (no abstained) are answered; refused null is an abstention", async () => {
    const old = line({ instance_id: "old", refused: false, correct: false });
    const none = JSON.stringify({ instance_id: "none", should_refuse: true, refused: null });
    const current = line({ instance_id: "new", refused: null, abstained: true, correct: null });
    const read = await readPredictions(file(`${old}\n${none}\n${current}\n`), {
      mode: "read-only",
    });
    expect(read.predictions.map((p) => [p.instance_id, p.refused, p.abstained])).toEqual([
      ["old", false, false],
      ["none", null, true],
      ["new", null, true],
    ]);
  });

  test.each([
    ["not JSON", "{nope", ":2: not valid JSON"],
    ["an array", "[1, 2]", ":2: not a prediction: expected a JSON object"],
    [
      "no instance_id",
      '{"should_refuse": true, "refused": true}',
      ":2: not a prediction: instance_id",
    ],
    [
      "a numeric should_refuse",
      '{"instance_id": "x", "should_refuse": 1, "refused": true}',
      ":2: not a prediction: should_refuse must be true or false",
    ],
    [
      'refused "yes"',
      '{"instance_id": "x", "should_refuse": true, "refused": "yes"}',
      ":2: not a prediction: refused must be true, false or null",
    ],
    [
      "no refused",
      '{"instance_id": "x", "should_refuse": true}',
      ":2: not a prediction: refused must be true, false or null",
    ],
    [
      "abstained but answered",
      '{"instance_id": "x", "should_refuse": true, "refused": false, "abstained": true}',
      ":2: not a prediction: abstained is true but refused is false",
    ],
  ])("%s: an error naming file:line", async (_name, bad, message) => {
    const path = file(`${line({ instance_id: "ok" })}\n${bad}\n`);
    await expect(readPredictions(path, { mode: "read-only" })).rejects.toThrow(`${path}${message}`);
  });

  test("line numbers count blank lines; repair mode says how to recover", async () => {
    const path = file(`${line({ instance_id: "a" })}\n\n{nope\n`);
    await expect(readPredictions(path, { mode: "repair" })).rejects.toThrow(
      `${path}:3: not valid JSON: the run directory is damaged; move the line away`,
    );
  });
});
