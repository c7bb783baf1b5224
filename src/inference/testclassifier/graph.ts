/**
 * The tiny classifier as an ONNX graph (standard ops, opset 17, IR 8) with the inputs and output
 * of a sequence-classification export:
 *   input_ids [batch_size, sequence_length] int64, attention_mask [batch_size, sequence_length]
 *   int64 -> logits [batch_size, labels] float32.
 * logits = mean over unmasked positions of embedding[input_ids] @ head_weight + head_bias.
 */
import type { onnx as Onnx } from "onnx-proto";
import onnxProto from "onnx-proto";
import { valueInfo } from "../graph/proto.js";
import { IR_VERSION, OPSET_VERSION } from "../testmodel/graph.js";
import {
  CLASSIFIER_LABELS,
  CLASSIFIER_VOCAB,
  classifierEmbedding,
  classifierHeadWeight,
  FEATURES,
  HEAD_BIAS,
} from "./weights.js";

// onnx-proto is CommonJS: Node's ESM loader sees only its default export.
const { onnx } = onnxProto;
const { DataType } = onnx.TensorProto;
const { AttributeType } = onnx.AttributeProto;

export const EMBEDDING_NAME = "embeddings.word_embeddings.weight";
export const HEAD_WEIGHT_NAME = "classifier.weight";
export const HEAD_BIAS_NAME = "classifier.bias";

function floatTensor(name: string, dims: number[], data: Float32Array): Onnx.ITensorProto {
  return { name, dims, dataType: DataType.FLOAT, rawData: new Uint8Array(data.buffer) };
}

function int64Tensor(name: string, values: number[]): Onnx.ITensorProto {
  const data = BigInt64Array.from(values, BigInt);
  return {
    name,
    dims: [values.length],
    dataType: DataType.INT64,
    rawData: new Uint8Array(data.buffer),
  };
}

function node(
  name: string,
  opType: string,
  input: string[],
  attributes: Record<string, number> = {},
  output = `${name}_output_0`,
): Onnx.INodeProto {
  return {
    name,
    opType,
    input,
    output: [output],
    attribute: Object.entries(attributes).map(([key, i]) => ({
      name: key,
      type: AttributeType.INT,
      i,
    })),
  };
}

const out = (n: Onnx.INodeProto) => n.output?.[0] as string;

export function buildClassifierModel(): Onnx.ModelProto {
  const vocab = CLASSIFIER_VOCAB.length;
  const features = FEATURES.length;
  const labels = CLASSIFIER_LABELS.length;
  const initializer = [
    floatTensor(EMBEDDING_NAME, [vocab, features], classifierEmbedding()),
    floatTensor(HEAD_WEIGHT_NAME, [features, labels], classifierHeadWeight()),
    floatTensor(HEAD_BIAS_NAME, [labels], Float32Array.from(HEAD_BIAS)),
    int64Tensor("/const/axes_1", [1]),
    int64Tensor("/const/axes_2", [2]),
    // A row with no unmasked position divides by 1, not 0 (its pooled vector is then zero).
    floatTensor("/const/one", [], Float32Array.of(1)),
  ];

  const embedded = node("/embeddings/Gather", "Gather", [EMBEDDING_NAME, "input_ids"], { axis: 0 });
  const mask = node("/pool/Cast", "Cast", ["attention_mask"], { to: DataType.FLOAT });
  const mask3 = node("/pool/Unsqueeze", "Unsqueeze", [out(mask), "/const/axes_2"]);
  const masked = node("/pool/Mul", "Mul", [out(embedded), out(mask3)]);
  const summed = node("/pool/ReduceSum", "ReduceSum", [out(masked), "/const/axes_1"], {
    keepdims: 0,
  });
  const count = node("/pool/ReduceSum_1", "ReduceSum", [out(mask), "/const/axes_1"], {
    keepdims: 1,
  });
  const safeCount = node("/pool/Max", "Max", [out(count), "/const/one"]);
  const pooled = node("/pool/Div", "Div", [out(summed), out(safeCount)]);
  const projected = node("/classifier/MatMul", "MatMul", [out(pooled), HEAD_WEIGHT_NAME]);
  const logits = node("/classifier/Add", "Add", [out(projected), HEAD_BIAS_NAME], {}, "logits");

  return onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: "", version: OPSET_VERSION }],
    producerName: "deepconf-safety testclassifier",
    producerVersion: "1",
    docString: "deepconf-safety test classifier: hand-set bag-of-words refusal weights",
    graph: {
      name: "main_graph",
      node: [embedded, mask, mask3, masked, summed, count, safeCount, pooled, projected, logits],
      initializer,
      input: [
        valueInfo("input_ids", DataType.INT64, ["batch_size", "sequence_length"]),
        valueInfo("attention_mask", DataType.INT64, ["batch_size", "sequence_length"]),
      ],
      output: [valueInfo("logits", DataType.FLOAT, ["batch_size", labels])],
    },
  });
}
