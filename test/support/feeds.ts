/** Graph feeds for running an unaugmented decoder over a whole sequence, with no cache. */
import * as ort from "onnxruntime-node";
import type { DecoderShape } from "../../src/inference/decoder.js";

/** One row: the sequence's ids, a full mask, positions 0..n-1, and empty pasts. */
export function wholeSequenceFeeds(
  sequence: readonly number[],
  shape: Pick<DecoderShape, "layers" | "kvHeads" | "headDim" | "kvType">,
): Record<string, ort.Tensor> {
  const n = sequence.length;
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor("int64", BigInt64Array.from(sequence, BigInt), [1, n]),
    attention_mask: new ort.Tensor("int64", new BigInt64Array(n).fill(1n), [1, n]),
    position_ids: new ort.Tensor(
      "int64",
      BigInt64Array.from(sequence, (_, i) => BigInt(i)),
      [1, n],
    ),
  };
  const empty = shape.kvType === "float16" ? new Uint16Array(0) : new Float32Array(0);
  for (let i = 0; i < shape.layers; i++) {
    for (const kind of ["key", "value"]) {
      feeds[`past_key_values.${i}.${kind}`] = new ort.Tensor(shape.kvType, empty, [
        1,
        shape.kvHeads,
        0,
        shape.headDim,
      ]);
    }
  }
  return feeds;
}
