/**
 * How fast `deepconf tune` replays: a seeded synthetic pool (instances x 16 traces x 128-256
 * tokens, answers "refusal"/"compliance", labels from the instance's right answer) through a grid
 * of settings, as tokens replayed per second, against the peer in the same run: the per-instance
 * `deepconf replay` path (replayInstance: offline votes and trace statistics too) on the same
 * settings. Prints JSON.
 *
 *   npm run bench:tune -- [--instances 200] [--resamples 1000]
 */
import { parseArgs } from "node:util";
import { tokenConfidenceAt } from "../src/engine/confidence.js";
import { replayInstance } from "../src/engine/replay.js";
import type { LabelledPoolInstance } from "../src/replay/run-pool.js";
import { gridSettings, replayOptionsOf, type TuneGrid, tune } from "../src/replay/tune.js";
import { syntheticPool } from "./synthetic-pool.js";

const { values } = parseArgs({
  options: {
    instances: { type: "string", default: "200" },
    resamples: { type: "string", default: "1000" },
  },
});
const instancesWanted = Number(values.instances);
const topk = 20;
const byId = new Map<string, LabelledPoolInstance>();
for (const trace of syntheticPool({
  seed: 1,
  instances: instancesWanted,
  tracesPerInstance: 16,
  minTokens: 128,
  maxTokens: 256,
  topk,
  answers: ["refusal", "compliance"],
})) {
  const confidences = new Float64Array(trace.tokens);
  for (let p = 0; p < trace.tokens; p++)
    confidences[p] = tokenConfidenceAt(trace.logprobs, p * topk, topk, topk);
  let instance = byId.get(trace.instanceId);
  if (!instance) {
    // The label: whatever most traces answer is taken as right (the synthetic pool's design).
    instance = { instanceId: trace.instanceId, shouldRefuse: null, traces: [] };
    byId.set(trace.instanceId, instance);
  }
  instance.traces.push({ traceId: trace.traceId, answer: trace.answer, confidences });
}
const pool = [...byId.values()].map((instance) => {
  const refusals = instance.traces.filter((t) => t.answer === "refusal").length;
  return { ...instance, shouldRefuse: refusals * 2 >= instance.traces.length };
});
const tokens = pool.reduce(
  (sum, i) => sum + i.traces.reduce((s, t) => s + t.confidences.length, 0),
  0,
);
const grid: TuneGrid = {
  window: [16, 32, 64],
  eta: [10, 90],
  warmup: [4, 8],
  tau: [0.95, 1],
  minVoters: [2],
  budget: [null],
};
const settings = gridSettings(grid);

let started = performance.now();
const result = tune(pool, { grid, topk, resamples: Number(values.resamples), seed: 0 });
const tuneSeconds = (performance.now() - started) / 1000;

started = performance.now();
for (const s of settings) {
  for (const instance of pool) {
    replayInstance(instance, replayOptionsOf(s, topk));
  }
}
const replaySeconds = (performance.now() - started) / 1000;
const replayed = tokens * settings.length;
process.stdout.write(
  `${JSON.stringify(
    {
      instances: pool.length,
      traces_per_instance: 16,
      pool_tokens: tokens,
      settings: settings.length,
      resamples: Number(values.resamples),
      tune: {
        seconds: tuneSeconds,
        recorded_tokens_per_second: replayed / tuneSeconds,
        frontier: result.frontier.length,
      },
      peer_replay_instance: {
        seconds: replaySeconds,
        recorded_tokens_per_second: replayed / replaySeconds,
      },
    },
    null,
    2,
  )}\n`,
);
