/**
 * confidences.bin on its own: records round-trip as float32, a file cut at any byte of its last
 * record reads the records before it and reports the tear, a bad checksum is found (damage in
 * the middle is an error naming the file and byte; at the end, a tear), a file that is not a
 * sidecar is named, and a run directory writes the record before its line and repairs the tail.
 */
import { readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import zlib from "node:zlib";
import { describe, expect, test } from "vitest";
import {
  appendConfidences,
  CONFIDENCES,
  joinConfidences,
  readConfidences,
  repairConfidences,
} from "../../src/runs/confidences.js";
import {
  decodeConfidences,
  encodeConfidences,
  FILE_HEADER_BYTES,
} from "../../src/runs/confidences-codec.js";
import { crc32, crc32Table } from "../../src/runs/crc32.js";
import { PREDICTIONS, RunDirectory } from "../../src/runs/directory.js";
import { readPredictions } from "../../src/runs/predictions.js";
import type { InstanceConfidences, PredictionRecord } from "../../src/safety/types.js";
import { testTempDir } from "../support/tiny-model.js";

/** An instance with `traces` traces of lengths 3, 5, 0, ... and values that need float32 rounding. */
function record(id: string, traces = 3): InstanceConfidences {
  return {
    instance_id: id,
    k: 20,
    traces: Array.from({ length: traces }, (_, t) => ({
      trace_id: `t${t}`,
      values: Float64Array.from({ length: [3, 5, 0][t % 3] as number }, (_, i) => 3 + t + i / 3),
    })),
  };
}

/** What reading `r` back must give: its values rounded to float32. */
function readBack(r: InstanceConfidences) {
  return {
    k: r.k,
    traces: new Map(r.traces.map((t) => [t.trace_id, Float32Array.from(t.values)])),
  };
}

/** A prediction whose traces have the record's ids and token counts. */
function predictionOf(r: InstanceConfidences): PredictionRecord {
  return {
    instance_id: r.instance_id,
    should_refuse: true,
    refused: true,
    abstained: false,
    traces: r.traces.map((t) => ({ trace_id: t.trace_id, tokens: t.values.length })),
  } as PredictionRecord;
}

async function sidecar(records: InstanceConfidences[]): Promise<string> {
  const path = join(testTempDir("sidecar-"), CONFIDENCES);
  await appendConfidences(path, records.slice(0, 1));
  await appendConfidences(path, records.slice(1));
  return path;
}

describe("confidences.bin", () => {
  test("records round-trip as float32, in order; the file is header + records", async () => {
    const records = [record("a"), record("b", 5), record("c", 0)];
    const path = await sidecar(records);
    const bytes = readFileSync(path);
    expect(bytes.subarray(0, 6).toString("latin1")).toBe("DCCONF");
    expect(bytes.readUInt16LE(6)).toBe(1);
    expect(bytes.length).toBe(
      FILE_HEADER_BYTES + records.reduce((n, r) => n + encodeConfidences(r).length, 0),
    );
    const file = await readConfidences(path);
    expect(file).toMatchObject({ records: 3, duplicates: 0, torn: false });
    expect([...file.instances.keys()]).toEqual(["a", "b", "c"]);
    for (const r of records) expect(file.instances.get(r.instance_id)).toEqual(readBack(r));
    // float32 stores every value within half an ulp: 6e-8 relative.
    const b = file.instances.get("b")?.traces.get("t4") as Float32Array;
    expect(b.length).toBe(5);
    for (const [i, v] of b.entries()) {
      expect(Math.abs(v - (7 + i / 3)) / (7 + i / 3)).toBeLessThan(6e-8);
    }
    expect(await readConfidences(join(testTempDir(), "absent.bin"))).toMatchObject({
      records: 0,
      torn: false,
    });
  });

  test("a file cut at every byte of its last record reads the records before it and reports the tear", async () => {
    const records = [record("a"), record("b"), record("c", 4)];
    const path = await sidecar(records);
    const whole = readFileSync(path);
    const last = encodeConfidences(records[2] as InstanceConfidences).length;
    const start = whole.length - last;
    const cut = join(testTempDir(), CONFIDENCES);
    for (let at = start; at < whole.length; at++) {
      writeFileSync(cut, whole.subarray(0, at));
      const file = await readConfidences(cut);
      expect(file.torn).toBe(at > start);
      expect([...file.instances.keys()]).toEqual(["a", "b"]);
      expect(file.instances.get("b")).toEqual(readBack(records[1] as InstanceConfidences));
    }
    // Cut inside the file header: nothing yet, torn unless empty.
    for (let at = 0; at < FILE_HEADER_BYTES; at++) {
      writeFileSync(cut, whole.subarray(0, at));
      expect(await readConfidences(cut)).toMatchObject({ records: 0, torn: at > 0 });
    }
  });

  test("a bad checksum: damage before the last record is an error naming file and byte, at the end a tear", async () => {
    const records = [record("a"), record("b"), record("c")];
    const path = await sidecar(records);
    const whole = readFileSync(path);
    const size = encodeConfidences(records[0] as InstanceConfidences).length;
    // A payload byte of the middle record ("b", from byte 8 + size).
    const middle = Buffer.from(whole);
    (middle[FILE_HEADER_BYTES + size + size - 10] as number) ^= 0x01;
    writeFileSync(path, middle);
    await expect(readConfidences(path)).rejects.toThrow(
      `${path}: damaged at byte ${FILE_HEADER_BYTES + size}: checksum mismatch`,
    );
    // The same in the last record: what a crash that did not get every byte to disk leaves.
    const end = Buffer.from(whole);
    (end[whole.length - 1] as number) ^= 0x80; // its checksum itself
    writeFileSync(path, end);
    const file = await readConfidences(path);
    expect(file).toMatchObject({ records: 2, torn: true });
    expect([...file.instances.keys()]).toEqual(["a", "b"]);
  });

  test("a file that is not a sidecar, or of another version, is an InputError naming it", async () => {
    const dir = testTempDir();
    const jsonl = join(dir, "predictions.jsonl");
    writeFileSync(jsonl, '{"instance_id": "a"}\n');
    await expect(readConfidences(jsonl)).rejects.toThrow(
      `${jsonl} is not a confidences sidecar: it does not start with "DCCONF"`,
    );
    await expect(readConfidences(jsonl)).rejects.toMatchObject({ name: "InputError" });
    const short = join(dir, "short.bin");
    writeFileSync(short, "DCX");
    await expect(readConfidences(short)).rejects.toThrow(/is not a confidences sidecar/);
    const v2 = join(dir, CONFIDENCES);
    const bytes = Buffer.concat([Buffer.from("DCCONF\x02\x00", "latin1")]);
    writeFileSync(v2, bytes);
    await expect(readConfidences(v2)).rejects.toThrow(`${v2}: confidences sidecar version 2`);
  });

  test("a record repeated (at-least-once delivery): the first is kept and the repeat counted", async () => {
    const first = record("a");
    const again = { ...record("a"), k: 5 };
    const path = await sidecar([first, record("b"), again]);
    const file = await readConfidences(path);
    expect(file).toMatchObject({ records: 3, duplicates: 1 });
    expect(file.instances.get("a")?.k).toBe(20);
  });

  test("one record alone (a queue entry's field) decodes, checked end to end", () => {
    const r = record("a", 4);
    const bytes = encodeConfidences(r);
    const decoded = decodeConfidences(bytes, "entry 1-0");
    expect(decoded.instance_id).toBe("a");
    expect(decoded.traces.map((t) => [...t.values])).toEqual(
      r.traces.map((t) => [...Float32Array.from(t.values)]),
    );
    expect(() => decodeConfidences(bytes.subarray(0, 20), "entry 1-0")).toThrow(
      "entry 1-0: a confidences record cut short",
    );
    const flipped = Buffer.from(bytes);
    (flipped[30] as number) ^= 4;
    expect(() => decodeConfidences(flipped, "entry 1-0")).toThrow(/checksum mismatch/);
    expect(() => decodeConfidences(Buffer.concat([bytes, bytes]), "e")).toThrow(/bytes after/);
  });

  test("CRC-32 is zlib's (IEEE), also in the table version older Node 20 uses", () => {
    const check = Buffer.from("123456789");
    expect(crc32Table(check)).toBe(0xcbf43926);
    expect(crc32(check)).toBe(0xcbf43926);
    const random = new Uint8Array(10_000).map((_, i) => (i * 2654435761) >>> 24);
    expect(crc32Table(random)).toBe(crc32(random));
    const native = (zlib as { crc32?: (b: Uint8Array) => number }).crc32;
    if (native) expect(crc32(random)).toBe(native(random));
  });

  test("repair cuts a torn record and trailing records without a prediction, nothing before", async () => {
    const records = ["a", "b", "c", "d"].map((id) => record(id));
    const path = await sidecar(records);
    const sizes = records.map((r) => encodeConfidences(r).length);
    const whole = statSync(path).size;
    truncateSync(path, whole - 7);
    // "c" is the last record with a line: "b" before it stays (it cannot be told from a record
    // whose line write failed and that was written again later), "d" is torn.
    const repair = await repairConfidences(path, new Set(["a", "c"]));
    expect(repair).toEqual({ cut: (sizes[3] as number) - 7, orphans: 0, torn: true });
    expect(statSync(path).size).toBe(whole - (sizes[3] as number));
    const again = await repairConfidences(path, new Set(["a"]));
    expect(again).toEqual({
      cut: (sizes[1] as number) + (sizes[2] as number),
      orphans: 2,
      torn: false,
    });
    expect(await repairConfidences(path, new Set())).toMatchObject({ orphans: 1 });
    expect(statSync(path).size).toBe(FILE_HEADER_BYTES);
    await appendConfidences(path, [record("e")]);
    expect([...(await readConfidences(path)).instances.keys()]).toEqual(["e"]);
  });

  test("joined with predictions: matched, missing, mismatched and orphans apart", async () => {
    const records = [record("a"), record("b"), record("c"), record("x")];
    const file = await readConfidences(await sidecar(records));
    const predictions = [record("a"), record("b"), record("c", 2), record("m")].map(predictionOf);
    (predictions[1] as PredictionRecord).traces[0] = {
      ...((predictions[1] as PredictionRecord).traces[0] as PredictionRecord["traces"][0]),
      tokens: 4,
    };
    const join = joinConfidences(predictions, file);
    expect([...join.matched.keys()]).toEqual(["a"]);
    expect(join.missing).toEqual(["m"]);
    expect(join.mismatched).toEqual([
      { instance_id: "b", problem: "trace t0: 3 confidences for 4 tokens" },
      { instance_id: "c", problem: "3 traces of confidences for the prediction's 2" },
    ]);
    expect(join.orphans).toEqual(["x"]);
  });
});

describe("RunDirectory and its sidecar", () => {
  const manifest = { run_id: "r", created_at: "now", config: { a: 1 } };

  test("the record goes to disk before its line; a record left without its line is cut on reopening", async () => {
    const dir = join(testTempDir(), "r");
    const run = await RunDirectory.open(dir, manifest);
    const a = record("a");
    // Appends from several lanes at once are written one after the other.
    await Promise.all([
      run.append(predictionOf(a), a),
      run.append(predictionOf(record("b")), record("b")),
      run.append(predictionOf(record("n"))),
    ]);
    // The same instance again (a retried shard): neither file grows.
    await run.append(predictionOf(a), { ...a, k: 3 });
    run.close();
    const lines = (await readPredictions(join(dir, PREDICTIONS), { mode: "read-only" }))
      .predictions;
    const sidecarFile = await readConfidences(join(dir, CONFIDENCES));
    expect(lines.map((p) => p.instance_id)).toEqual(["a", "b", "n"]);
    expect([...sidecarFile.instances.keys()]).toEqual(["a", "b"]);
    expect(joinConfidences(lines, sidecarFile).missing).toEqual(["n"]);

    // A crash between the two writes: "c"'s record is on disk, its line is not.
    await appendConfidences(join(dir, CONFIDENCES), [record("c")]);
    const path = join(dir, CONFIDENCES);
    writeFileSync(path, readFileSync(path).subarray(0, statSync(path).size - 3));
    const reopened = await RunDirectory.open(dir, manifest);
    expect([...(await readConfidences(path)).instances.keys()]).toEqual(["a", "b"]);
    // Resume runs "c" again: one record, the new one.
    await reopened.append(predictionOf(record("c")), { ...record("c"), k: 7 });
    reopened.close();
    const after = await readConfidences(path);
    expect(after).toMatchObject({ records: 3, duplicates: 0, torn: false });
    expect(after.instances.get("c")?.k).toBe(7);
  });

  test("a damaged sidecar stops the resume with what to do", async () => {
    const dir = join(testTempDir(), "r");
    const run = await RunDirectory.open(dir, manifest);
    for (const id of ["a", "b"]) await run.append(predictionOf(record(id)), record(id));
    run.close();
    const path = join(dir, CONFIDENCES);
    const bytes = readFileSync(path);
    (bytes[FILE_HEADER_BYTES + 10] as number) ^= 1;
    writeFileSync(path, bytes);
    await expect(RunDirectory.open(dir, manifest)).rejects.toThrow(
      /damaged at byte 8: .*: move .*confidences\.bin away and run the same command again/,
    );
  });
});
