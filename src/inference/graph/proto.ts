/** Small helpers for writing ONNX protobuf records with onnx-proto. */
import type { onnx as Onnx } from "onnx-proto";

/** A dimension: a fixed size, or a symbolic name such as "batch_size". */
export type Dim = number | string;

/** A tensor's name, element type and shape, as a graph input, output or value_info. */
export function valueInfo(
  name: string,
  elemType: number,
  dims: readonly Dim[],
): Onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: {
          dim: dims.map((d) => (typeof d === "string" ? { dimParam: d } : { dimValue: d })),
        },
      },
    },
  };
}
