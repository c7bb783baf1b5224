/**
 * confidences.bin benchmark: size and speed of the sidecar against its peer, the same numbers as
 * JSON lines, and what a smaller float would cost a replay. Prints one JSON object.
 *
 *   npx tsx scripts/bench-sidecar.ts [--instances 1000] [--traces 16] [--tokens 256]
 *
 * - bytes: the sidecar of N instances x T traces x L tokens (C_i from the synthetic generator's
 *   top-20 log-probs) against one JSON line per instance ({"instance_id", "k", "traces":
 *   [{"trace_id", "confidences": [...]}]}), as JavaScript prints the float32 values it would
 *   store (shortest round-trip double) and cut to 7 significant digits (float32's precision);
 *   gzip of each for reference.
 * - encode / decode: in memory, million values per second; write: all records in one append and
 *   one flush; append_one: one record with its flush, as a run writes an instance (median);
 *   read: readConfidences of the whole file, against readFile + JSON.parse of the lines.
 * - float16 / float32 replay error: the pool replayed (DeepConf-low and -high, the engine's
 *   online replay and offline votes) on C_i rounded to float32 and to float16, against the
 *   doubles: answers, tokens and stop decisions that change, largest error of a lowest group
 *   confidence. Also on examples/pool.jsonl.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { f16round } from "@petamoriken/float16";
import { tokenConfidenceAt } from "../src/engine/confidence.js";
import { type PoolInstance, type ReplayOptions, replayInstance } from "../src/engine/replay.js";
import { readPool } from "../src/replay/pool.js";
import { appendConfidences, readConfidences } from "../src/runs/confidences.js";
import { decodeConfidences, encodeConfidences } from "../src/runs/confidences-codec.js";
import type { InstanceConfidences } from "../src/safety/types.js";
import { syntheticPool } from "./synthetic-pool.js";

const { values: flags } = parseArgs({
  options: {
    instances: { type: "string", default: "1000" },
    traces: { type: "string", default: "16" },
    tokens: { type: "string", default: "256" },
  },
});
const N = Number(flags.instances);
const T = Number(flags.traces);
const L = Number(flags.tokens);
const K = 20;

const round = (x: number, digits = 3) => Number(x.toFixed(digits));
const seconds = (from: number) => (performance.now() - from) / 1000;
const mvps = (values: number, s: number) => round(values / s / 1e6, 1);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

// The pool: C_i of every synthetic trace, as doubles (what runInstance hands the sink).
const pool: PoolInstance[] = [];
for (const trace of syntheticPool({
  seed: 7,
  instances: N,
  tracesPerInstance: T,
  minTokens: L,
  maxTokens: L,
  topk: K,
  answers: ["refusal", "compliance"],
})) {
  const confidences = new Float64Array(trace.tokens);
  for (let p = 0; p < trace.tokens; p++) {
    confidences[p] = tokenConfidenceAt(trace.logprobs, p * K, K, K);
  }
  if (pool.at(-1)?.instanceId !== trace.instanceId) {
    pool.push({ instanceId: trace.instanceId, traces: [] });
  }
  pool.at(-1)?.traces.push({ traceId: trace.traceId, answer: trace.answer, confidences });
}
const records: InstanceConfidences[] = pool.map((instance) => ({
  instance_id: instance.instanceId,
  k: K,
  // Trace ids as runs name them (t0, t1, ...), so the headers weigh what they do in a run.
  traces: instance.traces.map((t, j) => ({ trace_id: `t${j}`, values: t.confidences })),
}));
const values = N * T * L;

// Sizes.
let started = performance.now();
const encoded = records.map(encodeConfidences);
const encodeS = seconds(started);
const sidecarBytes = 8 + encoded.reduce((n, b) => n + b.length, 0);
const jsonLine = (r: InstanceConfidences, digits: number | null) =>
  `${JSON.stringify({
    instance_id: r.instance_id,
    k: r.k,
    traces: r.traces.map((t) => ({
      trace_id: t.trace_id,
      confidences: Array.from(t.values, (v) =>
        digits === null ? Math.fround(v) : Number(Math.fround(v).toPrecision(digits)),
      ),
    })),
  })}\n`;
started = performance.now();
const jsonl = records.map((r) => jsonLine(r, null)).join("");
const jsonEncodeS = seconds(started);
const jsonl7 = records.map((r) => jsonLine(r, 7)).join("");

started = performance.now();
for (const b of encoded) decodeConfidences(b, "bench");
const decodeS = seconds(started);
started = performance.now();
for (const line of jsonl.split("\n")) if (line !== "") JSON.parse(line);
const jsonDecodeS = seconds(started);

// Files.
const dir = mkdtempSync(join(tmpdir(), "bench-sidecar-"));
try {
  const path = join(dir, "confidences.bin");
  started = performance.now();
  await appendConfidences(path, records);
  const writeS = seconds(started);
  started = performance.now();
  const read = await readConfidences(path);
  const readS = seconds(started);
  if (read.instances.size !== N || statSync(path).size !== sidecarBytes) {
    throw new Error("the sidecar read back differs from what was written");
  }
  const jsonPath = join(dir, "confidences.jsonl");
  started = performance.now();
  writeFileSync(jsonPath, jsonl);
  const jsonWriteS = seconds(started);
  started = performance.now();
  for (const line of (await readFile(jsonPath, "utf8")).split("\n")) {
    if (line !== "") JSON.parse(line);
  }
  const jsonReadS = seconds(started);

  const appendMs: number[] = [];
  const one = join(dir, "one.bin");
  for (const r of records.slice(0, 100)) {
    started = performance.now();
    await appendConfidences(one, [r]);
    appendMs.push(performance.now() - started);
  }

  // Replay error of smaller floats.
  const rounded = (instances: PoolInstance[], f: (x: number) => number): PoolInstance[] =>
    instances.map((i) => ({
      ...i,
      traces: i.traces.map((t) => ({ ...t, confidences: t.confidences.map(f) })),
    }));
  const replayError = (instances: PoolInstance[], f: (x: number) => number) => {
    const other = rounded(instances, f);
    const out: Record<string, unknown> = {};
    for (const [variant, eta] of [
      ["low", 10],
      ["high", 90],
    ] as const) {
      const options: ReplayOptions = {
        window: 32,
        tail: 32,
        topk: K,
        eta,
        warmup: Math.min(8, T),
        budget: null,
        tau: 0.95,
        minVoters: 2,
      };
      let answers = 0;
      let offline = 0;
      let tokens = 0;
      let stops = 0;
      let lowest = 0;
      instances.forEach((instance, i) => {
        const a = replayInstance(instance, options);
        const b = replayInstance(other[i] as PoolInstance, options);
        if (a.online.answer !== b.online.answer) answers++;
        if (a.online.tokensUsed !== b.online.tokensUsed) tokens++;
        if (a.online.stopped.join() !== b.online.stopped.join()) stops++;
        if (JSON.stringify(a.offline) !== JSON.stringify(b.offline)) offline++;
        a.traces.forEach((t, j) => {
          const x = t.stats.lowest;
          const y = (b.traces[j] as (typeof b.traces)[number]).stats.lowest;
          if (x !== null && y !== null) lowest = Math.max(lowest, Math.abs(x - y));
        });
      });
      out[variant] = {
        instances_with_other_online_answer: answers,
        instances_with_other_tokens_used: tokens,
        instances_with_other_stopped_traces: stops,
        instances_with_other_offline_answers: offline,
        max_abs_error_lowest_group_confidence: Number(lowest.toPrecision(3)),
      };
    }
    return out;
  };
  const example = await readPool(new URL("../examples/pool.jsonl", import.meta.url).pathname, {
    topk: K,
  });

  console.log(
    JSON.stringify(
      {
        shape: { instances: N, traces: T, tokens: L, values },
        bytes: {
          sidecar: sidecarBytes,
          sidecar_mb: round(sidecarBytes / 1e6),
          sidecar_overhead_bytes_per_instance: round((sidecarBytes - 4 * values) / N, 1),
          jsonl_peer: Buffer.byteLength(jsonl),
          jsonl_peer_mb: round(Buffer.byteLength(jsonl) / 1e6),
          jsonl_7_digits_mb: round(Buffer.byteLength(jsonl7) / 1e6),
          jsonl_over_sidecar: round(Buffer.byteLength(jsonl) / sidecarBytes, 2),
          gzip_sidecar_mb: round(gzipSync(Buffer.concat(encoded)).length / 1e6),
          gzip_jsonl_peer_mb: round(gzipSync(jsonl).length / 1e6),
          float16_would_be_mb: round((sidecarBytes - 2 * values) / 1e6),
        },
        throughput_million_values_per_s: {
          sidecar: {
            encode: mvps(values, encodeS),
            decode: mvps(values, decodeS),
            write_file: mvps(values, writeS),
            read_file: mvps(values, readS),
          },
          jsonl_peer: {
            encode: mvps(values, jsonEncodeS),
            decode: mvps(values, jsonDecodeS),
            write_file: mvps(values, jsonWriteS),
            read_file: mvps(values, jsonReadS),
          },
        },
        append_one_record_with_flush_ms: round(median(appendMs), 2),
        replay_error: {
          synthetic: {
            float32: replayError(pool, Math.fround),
            float16: replayError(pool, f16round),
          },
          example_pool: {
            instances: example.length,
            float32: replayError(example, Math.fround),
            float16: replayError(example, f16round),
          },
        },
      },
      null,
      2,
    ),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
