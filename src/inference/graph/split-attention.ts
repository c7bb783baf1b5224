/**
 * Attention that reads the past KV cache in place.
 *
 * Optimum decoders build each layer's cache as present = Concat(past, new) along the sequence
 * axis, and attention reads that concatenation, so every step copies the whole cache inside the
 * graph (measured: ~25 ms of a ~120 ms Qwen3-0.6B step at 8 traces x 300 positions). Attention is
 * linear in the cache along that axis, so the Concat can move below the MatMuls that read it:
 *   scores  = Q . [Kp ; Kn]^T = [Q . Kp^T , Q . Kn^T]          (concatenate the small scores)
 *   context = W . [Vp ; Vn]   = W[..., :P] . Vp + W[..., P:] . Vn  (split the small weights)
 * and the big past tensors are read where they lie. The rewrite applies when every reader of the
 * Concat is a chain of Transpose / Cast / Mul or Div by a scalar ending in a MatMul that takes it
 * as its second operand; anything else (a repeat_kv Expand, a fused attention op) keeps the
 * Concat, which stays correct, only slower.
 */
import type { onnx as Onnx } from "onnx-proto";
import onnxProto from "onnx-proto";

// onnx-proto is CommonJS: its namespace comes through the default export.
const { AttributeType } = onnxProto.onnx.AttributeProto;

/** Where a value is read: the node and the input slot. */
interface Reader {
  node: Onnx.INodeProto;
  slot: number;
}

/** The two halves a concatenated tensor splits into, and the sequence axis (non-negative). */
interface Halves {
  past: string;
  fresh: string;
  axis: number;
}

/** What a rewrite needs from its surroundings. */
export interface SplitContext {
  readers: Map<string, Reader[]>;
  graphOutputs: Set<string>;
  /** Names of tensors known to hold a single element (scalar initializers and Constants). */
  scalars: Set<string>;
  /** int64 [1] tensors: the past length P, 0, the largest int64, and -1 (the last axis). */
  pastLength: string;
  zero: string;
  end: string;
  lastAxis: string;
  /** Makes node and tensor names unique. */
  prefix: string;
}

/** The rewrite of one Concat: nodes to drop and nodes that replace them. */
export interface SplitRewrite {
  remove: Onnx.INodeProto[];
  add: Onnx.INodeProto[];
}

/** Every value's readers, for a graph's nodes. */
export function readersOf(nodes: readonly Onnx.INodeProto[]): Map<string, Reader[]> {
  const readers = new Map<string, Reader[]>();
  for (const node of nodes) {
    (node.input ?? []).forEach((name, slot) => {
      if (!name) return;
      const list = readers.get(name) ?? [];
      list.push({ node, slot });
      readers.set(name, list);
    });
  }
  return readers;
}

/**
 * Names of the graph's scalars (one element, rank <= 1, so broadcasting them changes no shape):
 * initializers and Constant node outputs.
 */
export function scalarNames(graph: Onnx.IGraphProto): Set<string> {
  const isScalar = (dims: Onnx.ITensorProto["dims"]) =>
    (dims ?? []).length <= 1 && (dims ?? []).every((d) => Number(d) === 1);
  const names = new Set<string>();
  for (const tensor of graph.initializer ?? []) {
    if (tensor.name && isScalar(tensor.dims)) names.add(tensor.name);
  }
  for (const node of graph.node ?? []) {
    const value = node.attribute?.find((a) => a.name === "value")?.t;
    if (node.opType === "Constant" && value && isScalar(value.dims) && node.output?.[0]) {
      names.add(node.output[0]);
    }
  }
  return names;
}

function intAttribute(node: Onnx.INodeProto, name: string): number | undefined {
  const attribute = node.attribute?.find((a) => a.name === name);
  return attribute?.i === undefined || attribute.i === null ? undefined : Number(attribute.i);
}

/**
 * Plans the rewrite of `concat` (inputs [past, new], rank `rank`), or returns null when one of
 * its readers is not a chain this module knows how to split. The Concat's own output may be a
 * graph output (present.N.*): the caller replaces those, so they do not count as readers.
 */
export function planSplit(
  concat: Onnx.INodeProto,
  rank: number,
  context: SplitContext,
): SplitRewrite | null {
  const [past, fresh] = concat.input ?? [];
  const output = concat.output?.[0];
  const axis = intAttribute(concat, "axis");
  if (!past || !fresh || !output || concat.input?.length !== 2 || axis === undefined) return null;
  const rewrite: SplitRewrite = { remove: [concat], add: [] };
  let counter = 0;
  const uniqueName = (hint: string) => `${context.prefix}/${hint}_${counter++}`;
  const node = (
    opType: string,
    input: string[],
    output: string,
    attribute: Onnx.IAttributeProto[] = [],
  ): string => {
    rewrite.add.push({ name: uniqueName(opType), opType, input, output: [output], attribute });
    return output;
  };

  const splitReaders = (value: string, halves: Halves): boolean =>
    (context.readers.get(value) ?? []).every((reader) => splitReader(reader, halves));

  const splitReader = ({ node: reader, slot }: Reader, halves: Halves): boolean => {
    const out = reader.output?.[0];
    if (!out || reader.output?.length !== 1 || context.graphOutputs.has(out)) return false;
    // A node reached twice (both operands, or a diamond) is beyond this rewrite.
    if (rewrite.remove.includes(reader)) return false;
    const op = reader.opType ?? "";
    const both = (make: (input: string, half: "past" | "fresh") => string): Halves => ({
      past: make(halves.past, "past"),
      fresh: make(halves.fresh, "fresh"),
      axis: halves.axis,
    });
    if (op === "Transpose" || op === "Cast") {
      const attribute = reader.attribute ?? [];
      const next = both((input, half) => node(op, [input], uniqueName(half), attribute));
      if (op === "Transpose") {
        const perm = attribute.find((a) => a.name === "perm")?.ints?.map(Number) ?? [];
        // No perm reverses the axes.
        next.axis = perm.length > 0 ? perm.indexOf(halves.axis) : rank - 1 - halves.axis;
      }
      rewrite.remove.push(reader);
      return splitReaders(out, next);
    }
    if ((op === "Mul" || op === "Div") && context.scalars.has(reader.input?.[1 - slot] ?? "")) {
      const other = reader.input?.[1 - slot] as string;
      const next = both((input, half) =>
        node(op, slot === 0 ? [input, other] : [other, input], uniqueName(half)),
      );
      rewrite.remove.push(reader);
      return splitReaders(out, next);
    }
    if (op === "MatMul" && slot === 1) {
      const left = reader.input?.[0] as string;
      if (halves.axis === rank - 1) {
        // The cache is the columns: concatenate the two products' columns.
        const a = node("MatMul", [left, halves.past], uniqueName("past"));
        const b = node("MatMul", [left, halves.fresh], uniqueName("fresh"));
        node("Concat", [a, b], out, [{ name: "axis", type: AttributeType.INT, i: -1 }]);
      } else if (halves.axis === rank - 2) {
        // The cache is the contraction: split the left operand's last axis at P and add.
        const { pastLength, zero, end, lastAxis } = context;
        const leftPast = node("Slice", [left, zero, pastLength, lastAxis], uniqueName("left"));
        const leftFresh = node("Slice", [left, pastLength, end, lastAxis], uniqueName("left"));
        const a = node("MatMul", [leftPast, halves.past], uniqueName("past"));
        const b = node("MatMul", [leftFresh, halves.fresh], uniqueName("fresh"));
        node("Add", [a, b], out);
      } else {
        return false;
      }
      rewrite.remove.push(reader);
      return true;
    }
    return false;
  };

  const normalized = axis < 0 ? axis + rank : axis;
  return splitReaders(output, { past, fresh, axis: normalized }) ? rewrite : null;
}

/**
 * Orders nodes so each comes after the producers of its inputs (ONNX requires it), keeping the
 * original order wherever it already holds. Inputs nobody produces (graph inputs, initializers)
 * count as ready.
 */
export function sortTopologically(nodes: readonly Onnx.INodeProto[]): Onnx.INodeProto[] {
  const producer = new Map<string, Onnx.INodeProto>();
  for (const node of nodes) for (const name of node.output ?? []) producer.set(name, node);
  const placed = new Set<Onnx.INodeProto>();
  const sorted: Onnx.INodeProto[] = [];
  const place = (root: Onnx.INodeProto) => {
    // Depth-first over unplaced producers, iteratively (graphs are thousands of nodes deep).
    const stack: Array<{ node: Onnx.INodeProto; next: number }> = [{ node: root, next: 0 }];
    const onStack = new Set<Onnx.INodeProto>([root]);
    while (stack.length > 0) {
      const frame = stack[stack.length - 1] as { node: Onnx.INodeProto; next: number };
      const inputs = frame.node.input ?? [];
      if (frame.next < inputs.length) {
        const dependency = producer.get(inputs[frame.next++] as string);
        if (dependency && !placed.has(dependency) && !onStack.has(dependency)) {
          stack.push({ node: dependency, next: 0 });
          onStack.add(dependency);
        }
        continue;
      }
      stack.pop();
      placed.add(frame.node);
      sorted.push(frame.node);
    }
  };
  for (const node of nodes) if (!placed.has(node)) place(node);
  return sorted;
}
