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
 *    cost more than the attention itself. The augmented graph returns only the S new positions
 *    (present_new.N.key/value, [B, kv_heads, S, head_dim]); the caller keeps the cache.
 *    Inputs are unchanged. Where attention allows, it also stops copying the cache inside the
 *    graph (present = concat(past, new) every step): see split-attention.ts.
 */
import type { onnx as Onnx } from "onnx-proto";
import onnxProto from "onnx-proto";
import { InputError } from "../../errors.js";
import { valueInfo } from "./proto.js";
import {
  planSplit,
  readersOf,
  type SplitContext,
  scalarNames,
  sortTopologically,
} from "./split-attention.js";

// onnx-proto is CommonJS: its namespace comes through the default export.
const { onnx } = onnxProto;

export const TOPK_LOGPROBS = "topk_logprobs";
export const TOPK_IDS = "topk_ids";
/** Layer `layer`'s past input (Optimum layout, unchanged: [B, kv_heads, P, head_dim]). */
export const pastInputName = (layer: number, kind: "key" | "value") =>
  `past_key_values.${layer}.${kind}`;
/** The positions a step added to layer `layer`'s cache ([B, kv_heads, S, head_dim]). */
export const newKvOutputName = (layer: number, kind: "key" | "value") =>
  `present_new.${layer}.${kind}`;
/** Bump when the surgery changes, so cached graphs from older versions are not reused. */
export const AUGMENT_VERSION = 5;

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
  newPositionsOnly(graph);
  return model;
}

const PAST = /^past_key_values\.(\d+)\.(key|value)$/;

/** The Concat(past, new) along the sequence axis that produces `present`, if that is how. */
function presentConcat(
  graph: Onnx.IGraphProto,
  past: Onnx.IValueInfoProto,
  present: string,
): Onnx.INodeProto | undefined {
  const node = graph.node?.find((n) => n.output?.[0] === present);
  const rank = past.type?.tensorType?.shape?.dim?.length ?? 4;
  const axis = Number(node?.attribute?.find((a) => a.name === "axis")?.i);
  const isSequenceAxis = axis === 2 || axis === 2 - rank;
  return node?.opType === "Concat" &&
    node.input?.length === 2 &&
    node.input[0] === past.name &&
    isSequenceAxis
    ? node
    : undefined;
}

/**
 * Torch exports sometimes name an output through an Identity (present.N.key = Identity(t)).
 * Renaming t to the output's name and dropping the Identity leaves the same computation with the
 * Concat as the direct producer of present.N.*, the layout the rest of the surgery expects.
 */
function elidePresentIdentities(graph: Onnx.IGraphProto): void {
  const presents = new Set(
    (graph.output ?? []).map((o) => o.name as string).filter((n) => /^present\./.test(n)),
  );
  const fixed = new Set([
    ...(graph.input ?? []).map((i) => i.name),
    ...(graph.initializer ?? []).map((i) => i.name),
    ...(graph.output ?? []).map((o) => o.name),
  ]);
  const identities = (graph.node ?? []).filter(
    (n) =>
      n.opType === "Identity" &&
      presents.has(n.output?.[0] as string) &&
      !fixed.has(n.input?.[0] as string),
  );
  for (const identity of identities) {
    const [from, to] = [identity.input?.[0] as string, identity.output?.[0] as string];
    for (const node of graph.node ?? []) {
      node.input = (node.input ?? []).map((name) => (name === from ? to : name));
      node.output = (node.output ?? []).map((name) => (name === from ? to : name));
    }
  }
  graph.node = (graph.node ?? []).filter((n) => !identities.includes(n));
}

/**
 * Change 2 of the module comment: present.N.* outputs become present_new.N.*, and attention
 * reads the past where it lies when it can (split-attention.ts).
 */
function newPositionsOnly(graph: Onnx.IGraphProto): void {
  elidePresentIdentities(graph);
  const pasts = (graph.input ?? []).filter((input) => PAST.test(input.name ?? ""));
  if (pasts.length === 0) {
    throw new InputError(
      "the ONNX graph has no past_key_values.N.key/value inputs: expected a decoder exported with its KV cache (Optimum's -with-past / onnx-community layout)",
    );
  }
  // The past length P (axis 2 of any past): the new positions start there.
  const pastLength = `${PREFIX}/past_length`;
  (graph.initializer as Onnx.ITensorProto[]).push(
    int64Initializer(`${PREFIX}/zero`, [0n]),
    int64Initializer(`${PREFIX}/last_axis`, [-1n]),
    int64Initializer(`${PREFIX}/two`, [2n]),
    int64Initializer(`${PREFIX}/three`, [3n]),
  );
  const added: Onnx.INodeProto[] = [
    {
      name: `${PREFIX}/past_shape`,
      opType: "Shape",
      input: [pasts[0]?.name as string],
      output: [`${PREFIX}/past_shape`],
    },
    {
      name: `${PREFIX}/past_length`,
      opType: "Slice",
      input: [`${PREFIX}/past_shape`, `${PREFIX}/two`, `${PREFIX}/three`],
      output: [pastLength],
    },
  ];
  const removed = new Set<Onnx.INodeProto>();
  const split: Omit<SplitContext, "prefix"> = {
    readers: readersOf(graph.node ?? []),
    graphOutputs: new Set((graph.output ?? []).map((o) => o.name as string)),
    scalars: scalarNames(graph),
    pastLength,
    zero: `${PREFIX}/zero`,
    end: `${PREFIX}/ends`,
    lastAxis: `${PREFIX}/last_axis`,
  };
  const newOutputs: Onnx.IValueInfoProto[] = [];
  for (const past of pasts) {
    const [, layer, kind] = PAST.exec(past.name as string) as RegExpExecArray;
    const present = `present.${layer}.${kind}`;
    if (!graph.output?.some((o) => o.name === present)) {
      throw new InputError(`the ONNX graph has ${past.name} but no ${present} output`);
    }
    const newKv = newKvOutputName(Number(layer), kind as "key" | "value");
    const dims = past.type?.tensorType?.shape?.dim ?? [];
    const concat = presentConcat(graph, past, present);
    if (concat) {
      // present = Concat(past, new): the new positions are the Concat's second input.
      added.push({
        name: `${PREFIX}/new_${layer}_${kind}`,
        opType: "Identity",
        input: [concat.input?.[1] as string],
        output: [newKv],
      });
      const rewrite = planSplit(concat, dims.length || 4, {
        ...split,
        prefix: `${PREFIX}/split_${layer}_${kind}`,
      });
      for (const node of rewrite?.remove ?? []) removed.add(node);
      added.push(...(rewrite?.add ?? []));
    } else {
      added.push({
        name: `${PREFIX}/new_${layer}_${kind}`,
        opType: "Slice",
        input: [present, pastLength, `${PREFIX}/ends`, `${PREFIX}/two`],
        output: [newKv],
      });
    }
    const dim = (i: number, fallback: string) =>
      dims[i]?.dimParam || (dims[i]?.dimValue ? Number(dims[i]?.dimValue) : fallback);
    newOutputs.push(
      valueInfo(newKv, past.type?.tensorType?.elemType ?? DataType.FLOAT, [
        dim(0, "batch_size"),
        dim(1, "num_key_value_heads"),
        "sequence_length",
        dim(3, "head_dim"),
      ]),
    );
  }
  graph.node = sortTopologically([
    ...(graph.node ?? []).filter((node) => !removed.has(node)),
    ...added,
  ]);
  // Shape records of tensors that no longer exist would mislead onnxruntime's checks.
  const produced = new Set(graph.node.flatMap((node) => node.output ?? []));
  graph.valueInfo = (graph.valueInfo ?? []).filter((v) => produced.has(v.name as string));
  graph.output = [
    ...(graph.output ?? []).filter((o) => !/^present\.\d+\.(key|value)$/.test(o.name ?? "")),
    ...newOutputs,
  ];
}

/** How an augmented graph's attention reads the KV cache. */
export interface KvReadReport {
  /** past_key_values inputs (two per layer). */
  pastInputs: number;
  /** Of those, the ones the graph still copies every step (a Concat(past, new) remains). */
  copiedEveryStep: number;
}

export function kvReadReport(model: Onnx.IModelProto): KvReadReport {
  const pasts = (model.graph?.input ?? []).filter((input) => PAST.test(input.name ?? ""));
  const copied = new Set(
    (model.graph?.node ?? [])
      .filter((node) => node.opType === "Concat" && PAST.test(node.input?.[0] ?? ""))
      .map((node) => node.input?.[0]),
  );
  return { pastInputs: pasts.length, copiedEveryStep: copied.size };
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
