/**
 * The Qwen3 decoder as an ONNX graph (standard ops, opset 17, IR 8) with exactly the inputs and
 * outputs of the Optimum / onnx-community exports:
 *   input_ids [batch_size, sequence_length] int64, attention_mask [batch_size,
 *   total_sequence_length] int64, position_ids [batch_size, sequence_length] int64,
 *   past_key_values.{i}.key|value [batch_size, kv_heads, past_sequence_length, head_dim] float32
 *   -> logits [batch_size, sequence_length, vocab] float32 (every position),
 *   present.{i}.key|value [batch_size, kv_heads, total_sequence_length, head_dim] float32.
 * Node and tensor names follow the torch exporter's style (/model/layers.0/self_attn/...).
 */

import type { onnx as Onnx } from "onnx-proto";
import onnxProto from "onnx-proto";
import { valueInfo } from "../graph/proto.js";
import { assertShape, type Qwen3Shape } from "./shapes.js";
import { EMBED_NAME, FINAL_NORM_NAME, layerWeightNames } from "./weights.js";

// onnx-proto is CommonJS: Node's ESM loader sees only its default export.
const { onnx } = onnxProto;
const { DataType } = onnx.TensorProto;
const { AttributeType } = onnx.AttributeProto;

export const OPSET_VERSION = 17;
export const IR_VERSION = 8;

/** The lm_head MatMul: its output is `logits`, its first input the final-norm hidden state. */
export const LM_HEAD_NODE = "/lm_head/MatMul";
/** Final RMSNorm output [batch_size, sequence_length, hidden]: the lm_head's first input. */
export const FINAL_HIDDEN = "/model/norm/output_0";
/** Transpose of the embedding ([hidden, vocab]): the lm_head's second input (tied weights). */
export const LM_HEAD_WEIGHT = "/lm_head/Transpose_output_0";

/** Symbolic dimension names, as in the onnx-community Qwen3 exports. */
export const DIMS = {
  batch: "batch_size",
  sequence: "sequence_length",
  past: "past_sequence_length",
  total: "total_sequence_length",
} as const;

/** The float32 lowest value: a fully masked row (a padded query) then softmaxes to a finite mean. */
const FLOAT32_LOWEST = -3.4028234663852886e38;

/** The graph's inputs and outputs, in the order the real exports list them. */
export function decoderIo(shape: Qwen3Shape): {
  inputs: Onnx.IValueInfoProto[];
  outputs: Onnx.IValueInfoProto[];
} {
  const kv = (name: string, length: string) =>
    valueInfo(name, DataType.FLOAT, [DIMS.batch, shape.numKvHeads, length, shape.headDim]);
  const inputs = [
    valueInfo("input_ids", DataType.INT64, [DIMS.batch, DIMS.sequence]),
    valueInfo("attention_mask", DataType.INT64, [DIMS.batch, DIMS.total]),
    valueInfo("position_ids", DataType.INT64, [DIMS.batch, DIMS.sequence]),
  ];
  const outputs = [
    valueInfo("logits", DataType.FLOAT, [DIMS.batch, DIMS.sequence, shape.vocabSize]),
  ];
  for (let i = 0; i < shape.numLayers; i++) {
    inputs.push(
      kv(`past_key_values.${i}.key`, DIMS.past),
      kv(`past_key_values.${i}.value`, DIMS.past),
    );
    outputs.push(kv(`present.${i}.key`, DIMS.total), kv(`present.${i}.value`, DIMS.total));
  }
  return { inputs, outputs };
}

type Attribute = number | number[] | { float: number };

function attribute(name: string, value: Attribute): Onnx.IAttributeProto {
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: value };
  if (typeof value === "number") return { name, type: AttributeType.INT, i: value };
  return { name, type: AttributeType.FLOAT, f: value.float };
}

/** Appends nodes named `${scope}/${op}` (then _1, _2...) whose single output is `${name}_output_0`. */
class GraphBuilder {
  readonly nodes: Onnx.INodeProto[] = [];
  readonly constants: Onnx.ITensorProto[] = [];
  private readonly used = new Map<string, number>();

  op(
    scope: string,
    opType: string,
    inputs: string[],
    attributes: Record<string, Attribute> = {},
    output?: string,
  ): string {
    const base = `${scope}/${opType}`;
    const count = this.used.get(base) ?? 0;
    this.used.set(base, count + 1);
    const name = count === 0 ? base : `${base}_${count}`;
    const out = output ?? `${name}_output_0`;
    this.nodes.push({
      name,
      opType,
      input: inputs,
      output: [out],
      attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
    });
    return out;
  }

  int64(name: string, values: readonly number[], scalar = false): string {
    const data = BigInt64Array.from(values, (v) => BigInt(v));
    this.constants.push({
      name,
      dataType: DataType.INT64,
      dims: scalar ? [] : [values.length],
      rawData: new Uint8Array(data.buffer),
    });
    return name;
  }

  float(name: string, values: readonly number[], scalar = false): string {
    const data = Float32Array.from(values);
    this.constants.push({
      name,
      dataType: DataType.FLOAT,
      dims: scalar ? [] : [values.length],
      rawData: new Uint8Array(data.buffer),
    });
    return name;
  }
}

/** x / sqrt(mean(x^2, last axis) + eps) * gain: the pattern onnxruntime fuses into one kernel. */
function rmsNorm(
  g: GraphBuilder,
  scope: string,
  x: string,
  gain: string,
  c: Constants,
  output?: string,
): string {
  const squared = g.op(scope, "Pow", [x, c.two]);
  const mean = g.op(scope, "ReduceMean", [squared], { axes: [-1], keepdims: 1 });
  const root = g.op(scope, "Sqrt", [g.op(scope, "Add", [mean, c.eps])]);
  return g.op(scope, "Mul", [g.op(scope, "Div", [x, root]), gain], {}, output);
}

interface Constants {
  two: string;
  eps: string;
  zero: string;
  one: string;
  axis1: string;
  axis2: string;
  axes12: string;
  halfHeadDim: string;
  headDim: string;
  lastAxis: string;
}

/** x * cos + rotate_half(x) * sin, rotate_half(x) = concat(-x[..., D/2:], x[..., :D/2]). */
function rope(g: GraphBuilder, scope: string, x: string, cos: string, sin: string, c: Constants) {
  const firstHalf = g.op(scope, "Slice", [x, c.zero, c.halfHeadDim, c.lastAxis]);
  const secondHalf = g.op(scope, "Slice", [x, c.halfHeadDim, c.headDim, c.lastAxis]);
  const rotated = g.op(scope, "Concat", [g.op(scope, "Neg", [secondHalf]), firstHalf], {
    axis: -1,
  });
  return g.op(scope, "Add", [g.op(scope, "Mul", [x, cos]), g.op(scope, "Mul", [rotated, sin])]);
}

export interface DecoderGraphOptions {
  shape: Qwen3Shape;
  /** The weight tensors of weightSpecs(), with inline or external data. */
  weights: Onnx.ITensorProto[];
  docString?: string;
}

export function buildDecoderModel(options: DecoderGraphOptions): Onnx.ModelProto {
  const { shape } = options;
  assertShape(shape);
  const { headDim: d, numHeads, numKvHeads } = shape;
  const groups = numHeads / numKvHeads;
  const half = d / 2;
  const g = new GraphBuilder();
  const c: Constants = {
    two: g.float("/const/two", [2], true),
    eps: g.float("/const/rms_norm_eps", [shape.rmsNormEps], true),
    zero: g.int64("/const/zero", [0]),
    one: g.int64("/const/one_scalar", [1], true),
    axis1: g.int64("/const/axes_1", [1]),
    axis2: g.int64("/const/axes_2", [2]),
    axes12: g.int64("/const/axes_1_2", [1, 2]),
    halfHeadDim: g.int64("/const/half_head_dim", [half]),
    headDim: g.int64("/const/head_dim", [d]),
    lastAxis: g.int64("/const/axes_last", [-1]),
  };
  const zeroScalar = g.int64("/const/zero_scalar", [0], true);
  const invFreq = g.float(
    "/model/rotary_emb/inv_freq",
    Array.from({ length: half }, (_, i) => shape.ropeTheta ** ((-2 * i) / d)),
  );

  // Additive attention mask [B, 1, S, T]: key j is visible to query i (absolute position P + i)
  // when j <= P + i and attention_mask[b, j] = 1; otherwise the float32 lowest value. Tiled to
  // [B, 1, groups * S, T] once for all layers, to match the grouped query rows (g * S + s) below.
  const m = "/model/attention_mask";
  const seqLen = g.op(m, "Gather", [g.op(m, "Shape", ["input_ids"]), c.one], { axis: 0 });
  const totalLen = g.op(m, "Gather", [g.op(m, "Shape", ["attention_mask"]), c.one], { axis: 0 });
  const pastLen = g.op(m, "Sub", [totalLen, seqLen]);
  const keyIndex = g.op(m, "Range", [zeroScalar, totalLen, c.one]);
  const queryIndex = g.op(m, "Unsqueeze", [g.op(m, "Range", [pastLen, totalLen, c.one]), c.axis1]);
  const causal = g.op(m, "LessOrEqual", [keyIndex, queryIndex]);
  const notPadded = g.op(m, "Unsqueeze", [
    g.op(m, "Cast", ["attention_mask"], { to: DataType.BOOL }),
    c.axes12,
  ]);
  const visible = g.op(m, "And", [causal, notPadded]);
  const maskZero = g.float("/const/mask_visible", [0], true);
  const maskLowest = g.float("/const/mask_hidden", [FLOAT32_LOWEST], true);
  const perQuery = g.op(m, "Where", [visible, maskZero, maskLowest]);
  const mask =
    groups === 1
      ? perQuery
      : g.op(m, "Tile", [perQuery, g.int64("/const/mask_group_repeats", [1, 1, groups, 1])]);

  // RoPE angles from position_ids: cos/sin [B, 1, S, head_dim], halves duplicated as in HF.
  const r = "/model/rotary_emb";
  const positions = g.op(r, "Unsqueeze", [
    g.op(r, "Cast", ["position_ids"], { to: DataType.FLOAT }),
    c.axis2,
  ]);
  const freqs = g.op(r, "Mul", [positions, invFreq]);
  const angles = g.op(r, "Concat", [freqs, freqs], { axis: -1 });
  const cos = g.op(r, "Unsqueeze", [g.op(r, "Cos", [angles]), c.axis1]);
  const sin = g.op(r, "Unsqueeze", [g.op(r, "Sin", [angles]), c.axis1]);

  const qShape = g.int64("/const/q_heads_shape", [0, 0, numHeads, d]);
  const kvShape = g.int64("/const/kv_heads_shape", [0, 0, numKvHeads, d]);
  const groupedShape = g.int64("/const/grouped_q_shape", [0, numKvHeads, -1, d]);
  const headsShape = g.int64("/const/heads_shape", [0, numHeads, -1, d]);
  const mergedShape = g.int64("/const/merged_heads_shape", [0, 0, numHeads * d]);
  const scale = g.float("/const/attention_scale", [1 / Math.sqrt(d)], true);

  let hidden = g.op("/model/embed_tokens", "Gather", [EMBED_NAME, "input_ids"], { axis: 0 });
  for (let layer = 0; layer < shape.numLayers; layer++) {
    const w = layerWeightNames(layer);
    const s = `/model/layers.${layer}`;
    const a = `${s}/self_attn`;
    const normed = rmsNorm(g, `${s}/input_layernorm`, hidden, w.inputNorm, c);

    // [B,S,heads*D] -> [B,S,heads,D] -> per-head RMSNorm -> [B,heads,S,D] -> RoPE.
    const heads = (proj: string, weight: string, reshape: string, norm: string | null) => {
      const projected = g.op(`${a}/${proj}`, "MatMul", [normed, weight]);
      let split = g.op(a, "Reshape", [projected, reshape]);
      if (norm !== null) split = rmsNorm(g, `${a}/${proj.replace("proj", "norm")}`, split, norm, c);
      return g.op(a, "Transpose", [split], { perm: [0, 2, 1, 3] });
    };
    const q = rope(g, `${a}/rotary_q`, heads("q_proj", w.q, qShape, w.qNorm), cos, sin, c);
    const k = rope(g, `${a}/rotary_k`, heads("k_proj", w.k, kvShape, w.kNorm), cos, sin, c);
    const v = heads("v_proj", w.v, kvShape, null);
    const keys = g.op(
      a,
      "Concat",
      [`past_key_values.${layer}.key`, k],
      { axis: 2 },
      `present.${layer}.key`,
    );
    const values = g.op(
      a,
      "Concat",
      [`past_key_values.${layer}.value`, v],
      { axis: 2 },
      `present.${layer}.value`,
    );

    // GQA as plain 4-D batched MatMuls, with no copy of the cache and no broadcast over groups.
    // Query heads are kv-major (head h reads kv head floor(h / groups), HF's repeat_kv), so q
    // [B, heads, S, D] reshapes for free to [B, kv_heads, groups * S, D], row g * S + s, and each
    // kv head's keys [T, D] serve all its query rows in one MatMul. K^T is a Transpose of the last
    // two axes feeding only that MatMul, which onnxruntime folds into FusedMatMul(transB) together
    // with the scale (alpha): the K cache is read in place, never transposed into a copy.
    const grouped = g.op(a, "Reshape", [q, groupedShape]);
    const keysT = g.op(a, "Transpose", [keys], { perm: [0, 1, 3, 2] });
    const scores = g.op(a, "Mul", [g.op(a, "MatMul", [grouped, keysT]), scale]);
    const probs = g.op(a, "Softmax", [g.op(a, "Add", [scores, mask])], { axis: -1 });
    const context = g.op(a, "MatMul", [probs, values]);
    const perHead = g.op(a, "Reshape", [context, headsShape]);
    const merged = g.op(a, "Reshape", [
      g.op(a, "Transpose", [perHead], { perm: [0, 2, 1, 3] }),
      mergedShape,
    ]);
    const attended = g.op(`${a}/o_proj`, "MatMul", [merged, w.o]);
    hidden = g.op(s, "Add", [hidden, attended]);

    // SwiGLU MLP: down(silu(gate(x)) * up(x)).
    const p = `${s}/mlp`;
    const normed2 = rmsNorm(g, `${s}/post_attention_layernorm`, hidden, w.postNorm, c);
    const gate = g.op(`${p}/gate_proj`, "MatMul", [normed2, w.gate]);
    const up = g.op(`${p}/up_proj`, "MatMul", [normed2, w.up]);
    const silu = g.op(`${p}/act_fn`, "Mul", [gate, g.op(`${p}/act_fn`, "Sigmoid", [gate])]);
    const down = g.op(`${p}/down_proj`, "MatMul", [g.op(p, "Mul", [silu, up]), w.down]);
    hidden = g.op(s, "Add", [hidden, down]);
  }

  const finalHidden = rmsNorm(g, "/model/norm", hidden, FINAL_NORM_NAME, c, FINAL_HIDDEN);
  // Tied lm_head: a Transpose of the embedding initializer (onnxruntime folds it once at load),
  // not a second 600 MB copy on disk. One MatMul, so logits can be pruned before it.
  const lmHeadWeight = g.op(
    "/lm_head",
    "Transpose",
    [EMBED_NAME],
    { perm: [1, 0] },
    LM_HEAD_WEIGHT,
  );
  g.op("/lm_head", "MatMul", [finalHidden, lmHeadWeight], {}, "logits");

  const io = decoderIo(shape);
  return onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: "", version: OPSET_VERSION }],
    producerName: "deepconf-safety testmodel",
    producerVersion: "1",
    docString: options.docString ?? "Qwen3-architecture decoder with random weights",
    graph: {
      name: "main_graph",
      node: g.nodes,
      initializer: [...options.weights, ...g.constants],
      input: io.inputs,
      output: io.outputs,
    },
  });
}
