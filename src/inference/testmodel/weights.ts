/**
 * Deterministic random weights for the test model, one tensor at a time so a 600M-parameter model
 * streams to disk without ever being whole in memory.
 *
 * Layout: tensors carry their Hugging Face names, but every linear weight is stored as the
 * MatMul operand, [in_features, out_features]: the TRANSPOSE of the HF nn.Linear weight of the same
 * name. The embedding keeps HF's [vocab, hidden] (it is gathered by row and, tied, transposed for
 * the lm_head inside the graph). Norm weights are [size].
 *
 * Each tensor has its own generator seeded from (seed, name), so a tensor's values do not depend
 * on which other tensors exist or on the order they are made in.
 */
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import { InputError } from "../../errors.js";
import type { Qwen3Shape } from "./shapes.js";

export type WeightInit =
  /** Uniform with mean 0 and this standard deviation. */
  | { kind: "uniform"; std: number }
  /** RMSNorm gain: 1 plus uniform noise of this standard deviation. */
  | { kind: "gain"; std: number };

export interface WeightSpec {
  name: string;
  dims: number[];
  init: WeightInit;
}

/** Name -> data, in the layout described above. */
export type Qwen3Weights = Map<string, Float32Array>;

export const EMBED_NAME = "model.embed_tokens.weight";
export const FINAL_NORM_NAME = "model.norm.weight";

/** The names of one decoder layer's tensors. */
export function layerWeightNames(layer: number) {
  const p = `model.layers.${layer}`;
  return {
    inputNorm: `${p}.input_layernorm.weight`,
    q: `${p}.self_attn.q_proj.weight`,
    k: `${p}.self_attn.k_proj.weight`,
    v: `${p}.self_attn.v_proj.weight`,
    o: `${p}.self_attn.o_proj.weight`,
    qNorm: `${p}.self_attn.q_norm.weight`,
    kNorm: `${p}.self_attn.k_norm.weight`,
    postNorm: `${p}.post_attention_layernorm.weight`,
    gate: `${p}.mlp.gate_proj.weight`,
    up: `${p}.mlp.up_proj.weight`,
    down: `${p}.mlp.down_proj.weight`,
  };
}

const GAIN: WeightInit = { kind: "gain", std: 0.05 };

/**
 * LeCun-scaled linear weight (std 1/sqrt(fan_in): 0.031 and 0.018 for Qwen3-0.6B, near HF's 0.02
 * init), so every projection keeps its input's scale and attention matters at any width.
 */
function linear(name: string, fanIn: number, fanOut: number): WeightSpec {
  return { name, dims: [fanIn, fanOut], init: { kind: "uniform", std: 1 / Math.sqrt(fanIn) } };
}

/** Every weight tensor of the model, in graph order. */
export function weightSpecs(shape: Qwen3Shape): WeightSpec[] {
  const { hiddenSize: h, headDim: d, intermediateSize: inter } = shape;
  const qSize = shape.numHeads * d;
  const kvSize = shape.numKvHeads * d;
  // Tied embedding: std 2/sqrt(hidden) makes the logits (final-normed hidden . row) spread with
  // std ~2 at any width, so the next-token distribution is neither flat nor one-hot.
  const specs: WeightSpec[] = [
    {
      name: EMBED_NAME,
      dims: [shape.vocabSize, h],
      init: { kind: "uniform", std: 2 / Math.sqrt(h) },
    },
  ];
  for (let layer = 0; layer < shape.numLayers; layer++) {
    const n = layerWeightNames(layer);
    specs.push(
      { name: n.inputNorm, dims: [h], init: GAIN },
      linear(n.q, h, qSize),
      linear(n.k, h, kvSize),
      linear(n.v, h, kvSize),
      { name: n.qNorm, dims: [d], init: GAIN },
      { name: n.kNorm, dims: [d], init: GAIN },
      linear(n.o, qSize, h),
      { name: n.postNorm, dims: [h], init: GAIN },
      linear(n.gate, h, inter),
      linear(n.up, h, inter),
      linear(n.down, inter, h),
    );
  }
  specs.push({ name: FINAL_NORM_NAME, dims: [h], init: GAIN });
  return specs;
}

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Parameters of the model (the tied lm_head counted once, as HF does). */
export function parameterCount(shape: Qwen3Shape): number {
  return weightSpecs(shape).reduce((sum, spec) => sum + elementCount(spec.dims), 0);
}

/** FNV-1a: a tensor name to 32 bits. */
function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export function assertSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new InputError(`seed must be a non-negative safe integer, got ${seed}`);
  }
}

/** Four non-zero-as-a-whole 32-bit words for the per-tensor stream, from pure-rand's xoroshiro. */
function streamState(seed: number, name: string): [number, number, number, number] {
  const high = Math.floor(seed / 2 ** 32);
  const rng = xoroshiro128plus((seed >>> 0) ^ Math.imul(high, 0x9e3779b1) ^ hashName(name));
  rng.jump(); // decorrelate the weakly mixed seeding state
  const state: [number, number, number, number] = [rng.next(), rng.next(), rng.next(), rng.next()];
  if (state.every((w) => w === 0)) state[0] = 1;
  return state;
}

/**
 * Fills `out` with the tensor's values. The inner loop is an inline xorshift128 (period 2^128 - 1)
 * because a method call per element would make the 600M-parameter build several times slower.
 */
export function fillWeight(spec: WeightSpec, seed: number, out: Float32Array): Float32Array {
  assertSeed(seed);
  const n = elementCount(spec.dims);
  if (out.length !== n) throw new RangeError(`${spec.name}: buffer holds ${out.length}, need ${n}`);
  let [x, y, z, w] = streamState(seed, spec.name);
  // Uniform on [-a, a) has std a/sqrt(3).
  const half = spec.init.std * Math.sqrt(3);
  const low = (spec.init.kind === "gain" ? 1 : 0) - half;
  const step = (2 * half) / 2 ** 32;
  for (let i = 0; i < n; i++) {
    const t = x ^ (x << 11);
    x = y;
    y = z;
    z = w;
    w = w ^ (w >>> 19) ^ t ^ (t >>> 8);
    out[i] = low + (w >>> 0) * step;
  }
  return out;
}

export function generateWeight(spec: WeightSpec, seed: number): Float32Array {
  return fillWeight(spec, seed, new Float32Array(elementCount(spec.dims)));
}

/** All weights in memory: for tests and small shapes only (Qwen3-0.6B would need 2.4 GB). */
export function makeWeights(shape: Qwen3Shape, seed: number): Qwen3Weights {
  return new Map(weightSpecs(shape).map((spec) => [spec.name, generateWeight(spec, seed)]));
}
