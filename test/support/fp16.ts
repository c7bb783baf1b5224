/**
 * An fp16 copy of the tiny test model, as Optimum's fp16 exports are laid out: model_fp16.onnx
 * with float16 weights, KV inputs/outputs and logits. Every float32 tensor type becomes float16;
 * values beyond float16's range saturate to +-65504 (so the mask's "lowest" stays finite, as
 * torch.finfo(float16).min does in real exports).
 */
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Float16Array } from "@petamoriken/float16";
import type { onnx as Onnx } from "onnx-proto";
import onnxProto from "onnx-proto";
import { testTempDir, tinyModelDir } from "./tiny-model.js";

const { onnx } = onnxProto;
const { FLOAT, FLOAT16 } = onnx.TensorProto.DataType;
const FLOAT16_MAX = 65504;

function floatValues(tensor: Onnx.ITensorProto): Float32Array {
  if (tensor.rawData && tensor.rawData.length > 0) {
    const bytes = Uint8Array.from(tensor.rawData);
    return new Float32Array(bytes.buffer, 0, bytes.length / 4);
  }
  return Float32Array.from(tensor.floatData ?? []);
}

function toFloat16Tensor(tensor: Onnx.ITensorProto): void {
  if (tensor.dataType !== FLOAT) return;
  const floats = floatValues(tensor).map((x) => Math.max(-FLOAT16_MAX, Math.min(FLOAT16_MAX, x)));
  const values = new Float16Array(floats);
  tensor.dataType = FLOAT16;
  tensor.floatData = [];
  tensor.rawData = new Uint8Array(values.buffer);
}

function toFloat16Type(info: Onnx.IValueInfoProto): void {
  const tensorType = info.type?.tensorType;
  if (tensorType?.elemType === FLOAT) tensorType.elemType = FLOAT16;
}

/** The model with every float32 tensor, type and Cast target turned float16 (in place). */
export function toFloat16Model(model: Onnx.IModelProto): Onnx.IModelProto {
  const graph = model.graph as NonNullable<Onnx.IModelProto["graph"]>;
  for (const tensor of graph.initializer ?? []) toFloat16Tensor(tensor);
  for (const info of [
    ...(graph.input ?? []),
    ...(graph.output ?? []),
    ...(graph.valueInfo ?? []),
  ]) {
    toFloat16Type(info);
  }
  for (const node of graph.node ?? []) {
    for (const attribute of node.attribute ?? []) {
      if (node.opType === "Cast" && attribute.name === "to" && Number(attribute.i) === FLOAT) {
        attribute.i = FLOAT16;
      }
      if (attribute.t) toFloat16Tensor(attribute.t);
    }
  }
  return model;
}

/** A model folder holding the tiny model as onnx/model_fp16.onnx only (fresh per call). */
export function tinyFp16ModelDir(): string {
  const dir = testTempDir("fp16-model-");
  cpSync(tinyModelDir(), dir, { recursive: true });
  const source = join(dir, "onnx", "model.onnx");
  const model = toFloat16Model(onnx.ModelProto.decode(readFileSync(source)));
  writeFileSync(join(dir, "onnx", "model_fp16.onnx"), onnx.ModelProto.encode(model).finish());
  rmSync(source);
  return dir;
}
