/**
 * For scripts/device-check.sh on a GPU machine: which execution providers load, and greedy
 * parity of each with the CPU path on the built-in model (same prompts, same token ids?).
 * Prints one JSON line: {"backends", "devices": {cpu|cuda|webgpu: {"loaded", "error"?,
 * "same_tokens"?, "ms"?}}}.
 */
import * as ort from "onnxruntime-node";
import { cacheDirFromEnv } from "../src/hf/settings.js";
import { loadModel } from "../src/inference/model.js";
import type { Device } from "../src/inference/session.js";
import { builtinModelDir } from "../src/runs/resources.js";

const cacheDir = cacheDirFromEnv();
const dir = await builtinModelDir(cacheDir);
const prompts = [12, 40, 97].map((length, n) =>
  Array.from({ length }, (_, i) => 200 + ((n * 31 + i * 7) % 900)),
);

async function greedy(device: Device) {
  const model = await loadModel(dir, { dtype: "fp32", device, topk: 5, cacheDir });
  const started = performance.now();
  const result = await model.decoder.generate(
    prompts.map((inputIds, seed) => ({ inputIds, traces: 2, seed })),
    {
      sampling: { greedy: true, temperature: 1, topK: 5, topP: 1 },
      maxNewTokens: 48,
      eosTokenIds: new Set<number>(),
      padTokenId: 0,
    },
  );
  return { tokens: result.traces.map((t) => t.tokenIds), ms: performance.now() - started };
}

const cpu = await greedy("cpu");
const devices: Record<string, unknown> = { cpu: { loaded: true, ms: Math.round(cpu.ms) } };
for (const device of ["cuda", "webgpu"] as const) {
  try {
    const run = await greedy(device);
    devices[device] = {
      loaded: true,
      same_tokens: JSON.stringify(run.tokens) === JSON.stringify(cpu.tokens),
      ms: Math.round(run.ms),
    };
  } catch (error) {
    devices[device] = { loaded: false, error: (error as Error).message.split("\n")[0] };
  }
}
process.stdout.write(`${JSON.stringify({ backends: ort.listSupportedBackends(), devices })}\n`);
