/**
 * The bytes of confidences.bin (runs/confidences.ts), also what a queue worker sends beside a
 * prediction: one self-checking record per instance.
 *
 *   file    = "DCCONF" u16-LE version (1), then records, back to back
 *   record  = u32-LE H, H bytes of UTF-8 JSON {"instance_id", "k", "traces": [{"trace_id", "n"}]},
 *             u32-LE P, P bytes: every trace's n values of C_i as float32 LE, in trace order
 *             (P = 4 * sum n), u32-LE CRC-32 of all the record's bytes before it
 *
 * float32 loses nothing real: C_i is a mean of k log-probs that the model produced in float32
 * (or fp16), so its own error is already ~1e-7 relative (batched and per-instance decoding
 * differ by up to 1e-6), and float32 rounding adds at most 6e-8 relative (1.5e-6 at C = 25).
 * A float32 value read back is the same double every time, so replays are exact repeats.
 */
import { z } from "zod";
import { InputError } from "../errors.js";
import type { InstanceConfidences } from "../safety/types.js";
import { crc32 } from "./crc32.js";

export const MAGIC = "DCCONF";
export const FORMAT_VERSION = 1;
export const FILE_HEADER_BYTES = 8;

/** The 8 bytes a sidecar starts with. */
export function fileHeader(): Buffer {
  const header = Buffer.alloc(FILE_HEADER_BYTES);
  header.write(MAGIC, 0, "latin1");
  header.writeUInt16LE(FORMAT_VERSION, MAGIC.length);
  return header;
}

// Unknown header keys are allowed (and dropped): a later version may add some.
const recordHeader = z.object({
  instance_id: z.string().min(1),
  k: z.number().int().positive(),
  traces: z.array(z.object({ trace_id: z.string().min(1), n: z.number().int().nonnegative() })),
});

/** One instance's record: header, float32 values, checksum. */
export function encodeConfidences(record: InstanceConfidences): Buffer {
  const header = Buffer.from(
    JSON.stringify({
      instance_id: record.instance_id,
      k: record.k,
      traces: record.traces.map((t) => ({ trace_id: t.trace_id, n: t.values.length })),
    }),
  );
  const payload = 4 * record.traces.reduce((sum, t) => sum + t.values.length, 0);
  const out = Buffer.allocUnsafe(4 + header.length + 4 + payload + 4);
  let at = out.writeUInt32LE(header.length, 0);
  at += header.copy(out, at);
  at = out.writeUInt32LE(payload, at);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (const trace of record.traces) {
    for (let i = 0; i < trace.values.length; i++, at += 4) {
      view.setFloat32(at, trace.values[i] as number, true);
    }
  }
  out.writeUInt32LE(crc32(out.subarray(0, at)), at);
  return out;
}

/** A record read back: its values are the float32 stored. */
export interface DecodedConfidences extends InstanceConfidences {
  traces: Array<{ trace_id: string; values: Float32Array }>;
}

type Step =
  | { kind: "record"; record: DecodedConfidences }
  | { kind: "short" }
  | { kind: "bad"; problem: string };

/** The record starting at `at`: complete, cut short by the end of the bytes, or bad. */
function readRecord(bytes: Uint8Array, at: number): Step & { end: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const short = { kind: "short" as const, end: bytes.length };
  if (bytes.length - at < 4) return short;
  const headerBytes = view.getUint32(at, true);
  const payloadAt = at + 4 + headerBytes + 4;
  if (payloadAt > bytes.length) return short;
  const payload = view.getUint32(payloadAt - 4, true);
  const end = payloadAt + payload + 4;
  if (end > bytes.length) return short;
  const bad = (problem: string) => ({ kind: "bad" as const, problem, end });
  const sum = crc32(bytes.subarray(at, end - 4));
  if (sum !== view.getUint32(end - 4, true)) return bad("checksum mismatch");
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + at + 4, headerBytes).toString());
  } catch {
    return bad("its header is not JSON");
  }
  const parsed = recordHeader.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return bad(`header ${issue?.path.join(".") || "value"}: ${issue?.message}`);
  }
  const header = parsed.data;
  const values = header.traces.reduce((total, t) => total + t.n, 0);
  if (4 * values !== payload) {
    return bad(`its traces hold ${values} values but it has ${payload} bytes of them`);
  }
  let from = payloadAt;
  const traces = header.traces.map(({ trace_id, n }) => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++, from += 4) out[i] = view.getFloat32(from, true);
    return { trace_id, values: out };
  });
  return { kind: "record", record: { instance_id: header.instance_id, k: header.k, traces }, end };
}

/** Exactly one record (what a queue worker sends); an InputError starting with `where`. */
export function decodeConfidences(bytes: Uint8Array, where: string): DecodedConfidences {
  const step = readRecord(bytes, 0);
  if (step.kind === "short") throw new InputError(`${where}: a confidences record cut short`);
  if (step.kind === "bad")
    throw new InputError(`${where}: bad confidences record: ${step.problem}`);
  if (step.end !== bytes.length) {
    throw new InputError(`${where}: ${bytes.length - step.end} bytes after the confidences record`);
  }
  return step.record;
}

export interface ScannedRecord {
  record: DecodedConfidences;
  /** Byte offsets of the record in the file: [start, end). */
  start: number;
  end: number;
}

export interface Scan {
  records: ScannedRecord[];
  /** Bytes up to the end of the last complete record (the file header alone: 8; none: 0). */
  complete: number;
  /** The bytes after `complete` are a record (or file header) cut short. */
  torn: boolean;
}

/**
 * Every complete record of a sidecar's bytes, in file order. The end of the file may hold a
 * record cut short (a run killed while writing it; after a power loss, also one whose bytes did
 * not all reach the disk, hence a bad checksum): that is a tear, reported, not an error. A bad
 * record with more bytes after it is damage: an InputError naming the file and the offset.
 */
export function scanConfidences(bytes: Uint8Array, file: string): Scan {
  const header = fileHeader();
  if (bytes.length < FILE_HEADER_BYTES) {
    // A file created by a run killed before its first record was whole.
    if (header.subarray(0, bytes.length).equals(bytes)) {
      return { records: [], complete: 0, torn: bytes.length > 0 };
    }
  }
  if (
    bytes.length < FILE_HEADER_BYTES ||
    !header.subarray(0, MAGIC.length).equals(bytes.subarray(0, MAGIC.length))
  ) {
    throw new InputError(
      `${file} is not a confidences sidecar: it does not start with "${MAGIC}" (runs write confidences.bin beside predictions.jsonl)`,
    );
  }
  const version = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).readUInt16LE(6);
  if (version !== FORMAT_VERSION) {
    throw new InputError(
      `${file}: confidences sidecar version ${version}; this deepconf reads version ${FORMAT_VERSION}`,
    );
  }
  const records: ScannedRecord[] = [];
  let at = FILE_HEADER_BYTES;
  while (at < bytes.length) {
    const step = readRecord(bytes, at);
    if (step.kind === "short") return { records, complete: at, torn: true };
    if (step.kind === "bad") {
      if (step.end === bytes.length) return { records, complete: at, torn: true };
      throw new InputError(
        `${file}: damaged at byte ${at}: ${step.problem} (records before it are readable)`,
      );
    }
    records.push({ record: step.record, start: at, end: step.end });
    at = step.end;
  }
  return { records, complete: at, torn: false };
}
