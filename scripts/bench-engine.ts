/**
 * Engine benchmark: replays a generated pool (default 1,000 instances x 64 traces x 512 tokens x
 * top-20) and reports throughput. Prints one JSON object.
 *
 *   npm run bench:engine -- [--instances N] [--traces N] [--tokens N] [--topk K] [--window N]
 *
 * Measured in the same run:
 * - token_confidence: top-k log-probs -> C_i, per token;
 * - live_monitor: what a generator pays per token: OnlineController + ConfidenceMonitor fed
 *   top-k rows (confidence, window sum, stop decision), early stopping included;
 * - replay: `deepconf replay`'s engine work per instance: trace statistics of every complete
 *   trace, the eight offline votes and the online replay;
 * - monitor: ConfidenceMonitor alone on precomputed C (running window sum, group, lowest),
 *   against its peer, naive_window: the notebook way, each window's mean recomputed from its
 *   slice at every token (O(n) per token), on a subset of instances.
 * Rows come from a bank of 4,096 distinct synthetic top-k rows that traces index into, so the
 * pool needs no 5 GB of memory; reading a row at an offset is what a batched decoder does too.
 */
import { parseArgs } from "node:util";
import { tokenConfidenceAt } from "../src/engine/confidence.js";
import { ConfidenceMonitor } from "../src/engine/monitor.js";
import { OnlineController } from "../src/engine/online.js";
import { type PoolTrace, replayInstance } from "../src/engine/replay.js";
import { seededRandom, syntheticPool } from "./synthetic-pool.js";

const { values } = parseArgs({
  options: {
    instances: { type: "string", default: "1000" },
    traces: { type: "string", default: "64" },
    tokens: { type: "string", default: "512" },
    topk: { type: "string", default: "20" },
    window: { type: "string", default: "64" },
    "naive-instances": { type: "string", default: "50" },
  },
});
const instances = Number(values.instances);
const traces = Number(values.traces);
const tokens = Number(values.tokens);
const k = Number(values.topk);
const window = Number(values.window);
const naiveInstances = Math.min(instances, Number(values["naive-instances"]));
const options = {
  window,
  tail: window,
  topk: k,
  warmup: 16,
  eta: 10,
  budget: traces,
  tau: 0.95,
  minVoters: 2,
};

// A bank of realistic rows: the synthetic generator's positions, flattened.
const BANK_ROWS = 4096;
const bank = new Float64Array(BANK_ROWS * k);
let filled = 0;
for (const trace of syntheticPool({
  seed: 1,
  instances: 1,
  tracesPerInstance: 64,
  minTokens: 64,
  maxTokens: 64,
  topk: k,
  answers: ["a"],
})) {
  bank.set(trace.logprobs, filled * k);
  filled += trace.tokens;
}

const random = seededRandom(2);
/** Row indices of every token of one instance's traces, and each trace's answer and quality. */
function makeInstance() {
  return Array.from({ length: traces }, () => {
    const rows = new Uint16Array(tokens);
    // Each trace draws from one region of the bank so traces differ in confidence.
    const start = random.integer(0, BANK_ROWS - 512);
    for (let i = 0; i < tokens; i++) rows[i] = start + random.integer(0, 511);
    return { rows, answer: ["yes", "no", "maybe"][random.integer(0, 2)] as string };
  });
}

function time(run: () => void): number {
  const start = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** The generator's path: controller + monitor fed top-k rows one token at a time. */
function liveInstance(instance: ReturnType<typeof makeInstance>): number {
  const controller = new OnlineController(options);
  let fed = 0;
  let next = 0;
  while (controller.canStartTrace()) {
    const trace = instance[next++] as (typeof instance)[number];
    const handle = controller.startTrace();
    for (let i = 0; i < tokens; i++) {
      fed++;
      if (handle.monitor.pushLogprobs(bank, (trace.rows[i] as number) * k, k)) break;
    }
    controller.finishTrace(handle, trace.answer);
  }
  return fed;
}

function confidencesOf(instance: ReturnType<typeof makeInstance>): PoolTrace[] {
  return instance.map((trace, t) => {
    const confidences = new Float64Array(tokens);
    for (let i = 0; i < tokens; i++)
      confidences[i] = tokenConfidenceAt(bank, (trace.rows[i] as number) * k, k, k);
    return { traceId: String(t), answer: trace.answer, confidences };
  });
}

/** The monitor alone on precomputed confidences: window sum, group and lowest per token. */
function monitorInstance(pool: PoolTrace[]): number {
  let lowest = Number.POSITIVE_INFINITY;
  for (const { confidences } of pool) {
    const monitor = new ConfidenceMonitor({ window, tail: window, topk: k });
    for (let i = 0; i < confidences.length; i++) monitor.pushConfidence(confidences[i] as number);
    lowest = Math.min(lowest, monitor.lowestSoFar ?? lowest);
  }
  return lowest;
}

/** The notebook way: after every token, the current window's mean from its slice. */
function naiveInstance(pool: PoolTrace[]): number {
  let lowest = Number.POSITIVE_INFINITY;
  for (const { confidences } of pool) {
    for (let i = window - 1; i < confidences.length; i++) {
      let sum = 0;
      for (let j = i - window + 1; j <= i; j++) sum += confidences[j] as number;
      lowest = Math.min(lowest, sum / window);
    }
  }
  return lowest;
}

// JIT warm-up on a few instances, then the measured passes over fresh ones.
for (let i = 0; i < 5; i++) {
  const instance = makeInstance();
  liveInstance(instance);
  replayInstance(
    { instanceId: "warm", traces: confidencesOf(instance) },
    { ...options, budget: null },
  );
}

let liveSeconds = 0;
let liveTokens = 0;
let confidenceSeconds = 0;
let replaySeconds = 0;
let naiveSeconds = 0;
let monitorSeconds = 0;
let sink = 0;
for (let n = 0; n < instances; n++) {
  const instance = makeInstance();
  liveSeconds += time(() => {
    liveTokens += liveInstance(instance);
  });
  let pool: PoolTrace[] = [];
  confidenceSeconds += time(() => {
    pool = confidencesOf(instance);
  });
  replaySeconds += time(() => {
    sink += replayInstance({ instanceId: String(n), traces: pool }, { ...options, budget: null })
      .online.tokensUsed;
  });
  if (n < naiveInstances) {
    monitorSeconds += time(() => {
      sink += monitorInstance(pool);
    });
    naiveSeconds += time(() => {
      sink += naiveInstance(pool);
    });
  }
}

const poolTokens = instances * traces * tokens;
const ns = (seconds: number, count: number) => (seconds * 1e9) / count;
const subsetTokens = naiveInstances * traces * tokens;
const replayTotalSeconds = confidenceSeconds + replaySeconds;
const monitorNs = ns(monitorSeconds, subsetTokens);
const naiveNs = ns(naiveSeconds, subsetTokens);
console.log(
  JSON.stringify(
    {
      instances,
      traces,
      tokens,
      topk: k,
      window,
      pool_tokens: poolTokens,
      node: process.version,
      replay: {
        seconds: replayTotalSeconds,
        traces_per_s: (instances * traces) / replayTotalSeconds,
        ns_per_token: ns(replayTotalSeconds, poolTokens),
      },
      live_path_ns_per_token: ns(liveSeconds, liveTokens),
      live_tokens_fed: liveTokens,
      token_confidence_ns_per_token: ns(confidenceSeconds, poolTokens),
      monitor_ns_per_token: monitorNs,
      naive_window_ns_per_token: naiveNs,
      monitor_speedup_vs_naive: naiveNs / monitorNs,
      peer_instances: naiveInstances,
      checksum: sink,
    },
    null,
    2,
  ),
);
