/**
 * Decoder graph surgery at load time. Two changes, both about what crosses the boundary
 * between onnxruntime and JavaScript on every step:
 *
 * 1. Logits. Optimum decoders output logits for every position ([B, S, V]: ~580 MiB of fp32 for
 *    a 1000-token prefill of one Qwen3 row). DeepConf needs only the last position's top-k:
 *      hidden[B,S,H] -> Slice(last position) -> lm_head -> logits[B,1,V]
 *        -> (Cast to fp32) -> LogSoftmax -> TopK(k) -> topk_logprobs[B,1,k], topk_ids[B,1,k]
 *
 * 2. KV cache. Optimum decoders return the whole cache every step (present = concat(past, new),
 *    [B, kv_heads, P+S, head_dim]), and onnxruntime-node copies every output into a fresh
 *    JavaScript buffer: ~550 MB per step for 8 traces of a 300-token Qwen3-0.6B context, which
 *    cost more than the attention itself. The augmented graph instead takes the past in
 *    time-major layout [P, B, kv_heads, head_dim] (transposed back inside the graph) and returns
 *    only the S new positions, time-major too. In that layout a step's new positions are an
 *    append at the end of one buffer, so the caller keeps the cache in place and never copies it.
 */
import type { onnx as Onnx } from "onnx-proto";
import onnxProto from "onnx-proto";
import { InputError } from "../../errors.js";
import { valueInfo } from "./proto.js";

// onnx-proto is CommonJS: its namespace comes through the default export.
const { onnx } = onnxProto;

export const TOPK_LOGPROBS = "topk_logprobs";
export const TOPK_IDS = "topk_ids";
/** Time-major past input of layer `layer` ([P, B, kv_heads, head_dim]). */
export const pastInputName = (layer: number, kind: "key" | "value") =>
  `past_time_major.${layer}.${kind}`;
/** The positions a step added to layer `layer`'s cache, time-major ([S, B, kv_heads, head_dim]). */
export const newKvOutputName = (layer: number, kind: "key" | "value") =>
  `present_new.${layer}.${kind}`;
/** Bump when the surgery changes, so cached graphs from older versions are not reused. */
export const AUGMENT_VERSION = 2;

const { DataType } = onnx.TensorProto;
const PREFIX = "deepconf_augment";

function int64Initializer(name: string, values: readonly bigint[]): Onnx.ITensorProto {
  const data = BigInt64Array.from(values);
  return {
    name,
    dataType: DataType.INT64,
    dims: [values.length],
    rawData: new Uint8Array(data.buffer),
  };
}

function defaultOpset(model: Onnx.IModelProto): number {
  const entry = model.opsetImport?.find((o) => !o.domain || o.domain === "ai.onnx");
  return Number(entry?.version ?? 0);
}

/** Returns the changed model (the input is modified in place and returned). */
export function augmentDecoder(model: Onnx.IModelProto, topk: number): Onnx.IModelProto {
  const graph = model.graph;
  if (!graph?.node || !graph.output) throw new InputError("the ONNX file holds no graph");
  if (graph.output.some((o) => o.name === TOPK_LOGPROBS)) {
    throw new InputError("this ONNX graph is already augmented with top-k outputs");
  }
  const index = graph.node.findIndex((node) => node.output?.includes("logits"));
  const logitsInfo = graph.output.find((o) => o.name === "logits");
  if (index < 0 || !logitsInfo) {
    throw new InputError(
      "the ONNX graph has no 'logits' output: expected a causal-LM decoder exported by Optimum / onnx-community",
    );
  }
  if (defaultOpset(model) < 13) {
    throw new InputError(`the ONNX graph uses opset ${defaultOpset(model)}; at least 13 is needed`);
  }
  const lmHead = graph.node[index] as Onnx.INodeProto;
  const hidden = lmHead.input?.[0];
  if (!hidden || !["MatMul", "MatMulNBits", "Gemm"].includes(lmHead.opType ?? "")) {
    throw new InputError(
      `cannot prune logits: the node producing them is ${lmHead.opType}, not the lm_head MatMul`,
    );
  }

  // 1. lm_head reads only the last position of the hidden state.
  const lastHidden = `${PREFIX}/last_hidden`;
  graph.initializer ??= [];
  graph.initializer.push(
    int64Initializer(`${PREFIX}/starts`, [-1n]),
    int64Initializer(`${PREFIX}/ends`, [9223372036854775807n]),
    int64Initializer(`${PREFIX}/axes`, [1n]),
    int64Initializer(`${PREFIX}/k`, [BigInt(topk)]),
  );
  const slice: Onnx.INodeProto = {
    name: `${PREFIX}/slice_last`,
    opType: "Slice",
    input: [hidden, `${PREFIX}/starts`, `${PREFIX}/ends`, `${PREFIX}/axes`],
    output: [lastHidden],
  };
  (lmHead.input as string[])[0] = lastHidden;

  // 2. log_softmax in fp32 (fp16 models are cast first), then the k best.
  const logitsType = logitsInfo.type?.tensorType?.elemType ?? DataType.FLOAT;
  const tail: Onnx.INodeProto[] = [];
  let logits = "logits";
  if (logitsType !== DataType.FLOAT) {
    tail.push({
      name: `${PREFIX}/cast`,
      opType: "Cast",
      input: ["logits"],
      output: [`${PREFIX}/logits_fp32`],
      attribute: [{ name: "to", type: onnx.AttributeProto.AttributeType.INT, i: DataType.FLOAT }],
    });
    logits = `${PREFIX}/logits_fp32`;
  }
  tail.push(
    {
      name: `${PREFIX}/log_softmax`,
      opType: "LogSoftmax",
      input: [logits],
      output: [`${PREFIX}/logprobs`],
      attribute: [{ name: "axis", type: onnx.AttributeProto.AttributeType.INT, i: -1 }],
    },
    {
      name: `${PREFIX}/topk`,
      opType: "TopK",
      input: [`${PREFIX}/logprobs`, `${PREFIX}/k`],
      output: [TOPK_LOGPROBS, TOPK_IDS],
      attribute: [
        { name: "axis", type: onnx.AttributeProto.AttributeType.INT, i: -1 },
        { name: "largest", type: onnx.AttributeProto.AttributeType.INT, i: 1 },
        { name: "sorted", type: onnx.AttributeProto.AttributeType.INT, i: 1 },
      ],
    },
  );
  graph.node.splice(index, 0, slice);
  graph.node.push(...tail);

  // 3. Outputs: top-k instead of logits; drop stale shape info claiming [B, S, V].
  const batch = logitsInfo.type?.tensorType?.shape?.dim?.[0]?.dimParam || "batch_size";
  graph.output = graph.output.filter((o) => o.name !== "logits");
  graph.output.unshift(
    valueInfo(TOPK_LOGPROBS, DataType.FLOAT, [batch, 1, topk]),
    valueInfo(TOPK_IDS, DataType.INT64, [batch, 1, topk]),
  );
  graph.valueInfo = (graph.valueInfo ?? []).filter((v) => v.name !== "logits");
  timeMajorCache(graph);
  return model;
}

const PAST = /^past_key_values\.(\d+)\.(key|value)$/;

/** Change 2 of the module comment: time-major past in, only the new positions out. */
function timeMajorCache(graph: Onnx.IGraphProto): void {
  const inputs = graph.input ?? [];
  const pasts = inputs.filter((input) => PAST.test(input.name ?? ""));
  if (pasts.length === 0) {
    throw new InputError(
      "the ONNX graph has no past_key_values.N.key/value inputs: expected a decoder exported with its KV cache (Optimum's -with-past / onnx-community layout)",
    );
  }
  const ints = onnx.AttributeProto.AttributeType.INTS;
  const transpose = (name: string, input: string, output: string, perm: number[]) => ({
    name,
    opType: "Transpose",
    input: [input],
    output: [output],
    attribute: [{ name: "perm", type: ints, ints: perm }],
  });
  // The past length P, from the first time-major input: the new positions start there.
  const [, firstLayer, firstKind] = PAST.exec(pasts[0]?.name ?? "") ?? [];
  const pastLength = `${PREFIX}/past_length`;
  (graph.initializer as Onnx.ITensorProto[]).push(
    int64Initializer(`${PREFIX}/zero`, [0n]),
    int64Initializer(`${PREFIX}/one`, [1n]),
    int64Initializer(`${PREFIX}/time_axis`, [2n]),
  );
  const head: Onnx.INodeProto[] = [
    {
      name: `${PREFIX}/past_shape`,
      opType: "Shape",
      input: [pastInputName(Number(firstLayer), firstKind as "key" | "value")],
      output: [`${PREFIX}/past_shape`],
    },
    {
      name: `${PREFIX}/past_length`,
      opType: "Slice",
      input: [`${PREFIX}/past_shape`, `${PREFIX}/zero`, `${PREFIX}/one`],
      output: [pastLength],
    },
  ];
  const tail: Onnx.INodeProto[] = [];
  const newOutputs: Onnx.IValueInfoProto[] = [];
  for (const past of pasts) {
    const [, layerText, kind] = PAST.exec(past.name as string) as RegExpExecArray;
    const layer = Number(layerText);
    const present = `present.${layer}.${kind}`;
    const presentInfo = graph.output?.find((o) => o.name === present);
    if (!presentInfo) {
      throw new InputError(`the ONNX graph has ${past.name} but no ${present} output`);
    }
    const dims = past.type?.tensorType?.shape?.dim ?? [];
    const dim = (i: number, fallback: string) =>
      dims[i]?.dimParam || (dims[i]?.dimValue ? Number(dims[i]?.dimValue) : fallback);
    const elemType = past.type?.tensorType?.elemType ?? DataType.FLOAT;
    const timeMajor = pastInputName(layer, kind as "key" | "value");
    const newKv = newKvOutputName(layer, kind as "key" | "value");
    // The original name now names the transposed tensor, so every consumer is unchanged.
    head.push(
      transpose(`${PREFIX}/past_${layer}_${kind}`, timeMajor, past.name as string, [1, 2, 0, 3]),
    );
    tail.push(
      {
        name: `${PREFIX}/new_${layer}_${kind}`,
        opType: "Slice",
        input: [present, pastLength, `${PREFIX}/ends`, `${PREFIX}/time_axis`],
        output: [`${PREFIX}/new_${layer}_${kind}`],
      },
      transpose(
        `${PREFIX}/new_tm_${layer}_${kind}`,
        `${PREFIX}/new_${layer}_${kind}`,
        newKv,
        [2, 0, 1, 3],
      ),
    );
    past.name = timeMajor;
    past.type = valueInfo(timeMajor, elemType, [
      "past_sequence_length",
      dim(0, "batch_size"),
      dim(1, "num_key_value_heads"),
      dim(3, "head_dim"),
    ]).type;
    newOutputs.push(
      valueInfo(newKv, elemType, [
        "sequence_length",
        dim(0, "batch_size"),
        dim(1, "num_key_value_heads"),
        dim(3, "head_dim"),
      ]),
    );
  }
  graph.node = [...head, ...(graph.node ?? []), ...tail];
  graph.output = [
    ...(graph.output ?? []).filter((o) => !/^present\.\d+\.(key|value)$/.test(o.name ?? "")),
    ...newOutputs,
  ];
}

/** Names of the external-data files the graph's initializers point to (relative paths). */
export function externalDataFiles(model: Onnx.IModelProto): string[] {
  const files = new Set<string>();
  for (const tensor of model.graph?.initializer ?? []) {
    if (tensor.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) continue;
    for (const entry of tensor.externalData ?? []) {
      if (entry.key === "location" && entry.value) files.add(entry.value);
    }
  }
  return [...files];
}
