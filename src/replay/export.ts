/**
 * `deepconf pool export RUN`: a run directory as a pool file, one trace per line with its token
 * confidences, its recorded answer and the instance's label, so a pool can travel without the run
 * (and be replayed or tuned anywhere). Float32 confidences print as the shortest decimal that
 * reads back to the same value, so replaying the export equals replaying the run.
 */

import { once } from "node:events";
import { createWriteStream } from "node:fs";
import type { RunPool } from "./run-pool.js";

export function poolLines(pool: RunPool): Generator<string> {
  return (function* () {
    for (const instance of pool.instances) {
      for (const trace of instance.traces) {
        yield `${JSON.stringify({
          instance_id: instance.instanceId,
          trace_id: trace.traceId,
          answer: trace.answer,
          should_refuse: instance.shouldRefuse,
          k: pool.k,
          confidences: Array.from(trace.confidences),
        })}\n`;
      }
    }
  })();
}

/** Writes the pool to a file or a stream; resolves to what was written. */
export async function exportPool(pool: RunPool, out: NodeJS.WritableStream | string) {
  const stream: NodeJS.WritableStream = typeof out === "string" ? createWriteStream(out) : out;
  let traces = 0;
  for (const line of poolLines(pool)) {
    traces++;
    if (!stream.write(line)) await once(stream, "drain");
  }
  if (typeof out === "string") {
    const closed = once(stream, "finish");
    stream.end();
    await closed;
  }
  return { instances: pool.instances.length, traces };
}
