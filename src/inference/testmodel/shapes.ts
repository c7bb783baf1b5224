/**
 * Shapes of the project's Qwen3-architecture test models. `tiny` keeps the real vocabulary (so the
 * real tokenizer, top-k sizes and logits traffic per row are those of Qwen3) but is otherwise small
 * enough to build and run in every test; `qwen3-0.6b` has the compute and memory traffic of
 * Qwen/Qwen3-0.6B and is what throughput benchmarks use, since no real weights can be downloaded.
 */
import { InputError } from "../../errors.js";

export interface Qwen3Shape {
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  intermediateSize: number;
  vocabSize: number;
  rmsNormEps: number;
  ropeTheta: number;
  maxPositionEmbeddings: number;
}

/** The real Qwen3 vocabulary size (the tokenizer's ids stay below it). */
export const QWEN3_VOCAB_SIZE = 151936;

export const TEST_MODEL_SHAPES = {
  // 6 query heads over 2 KV heads: 3 per group (not 2), and 6 x 16 = 96 != hidden 64 as in the
  // real model (2048 != 1024), so head-grouping and projection-size mistakes cannot cancel out.
  tiny: {
    hiddenSize: 64,
    numLayers: 2,
    numHeads: 6,
    numKvHeads: 2,
    headDim: 16,
    intermediateSize: 128,
    vocabSize: QWEN3_VOCAB_SIZE,
    rmsNormEps: 1e-6,
    ropeTheta: 1_000_000,
    maxPositionEmbeddings: 40960,
  },
  "qwen3-0.6b": {
    hiddenSize: 1024,
    numLayers: 28,
    numHeads: 16,
    numKvHeads: 8,
    headDim: 128,
    intermediateSize: 3072,
    vocabSize: QWEN3_VOCAB_SIZE,
    rmsNormEps: 1e-6,
    ropeTheta: 1_000_000,
    maxPositionEmbeddings: 40960,
  },
} as const satisfies Record<string, Qwen3Shape>;

export type TestModelShapeName = keyof typeof TEST_MODEL_SHAPES;

export const TEST_MODEL_SHAPE_NAMES = Object.keys(TEST_MODEL_SHAPES) as TestModelShapeName[];

export function isTestModelShapeName(name: string): name is TestModelShapeName {
  return Object.hasOwn(TEST_MODEL_SHAPES, name);
}

export function resolveShape(name: string): Qwen3Shape {
  if (!isTestModelShapeName(name)) {
    throw new InputError(
      `unknown test model shape '${name}'; expected one of: ${TEST_MODEL_SHAPE_NAMES.join(", ")}`,
    );
  }
  return TEST_MODEL_SHAPES[name];
}

/** Throws on a shape the graph cannot express (GQA needs whole groups, RoPE an even head_dim). */
export function assertShape(shape: Qwen3Shape): void {
  const positive = [
    shape.hiddenSize,
    shape.numLayers,
    shape.numHeads,
    shape.numKvHeads,
    shape.headDim,
    shape.intermediateSize,
    shape.vocabSize,
  ];
  if (!positive.every((n) => Number.isSafeInteger(n) && n > 0)) {
    throw new InputError("test model shape: every size must be a positive integer");
  }
  if (shape.numHeads % shape.numKvHeads !== 0) {
    throw new InputError("test model shape: num_heads must be a multiple of num_kv_heads");
  }
  if (shape.headDim % 2 !== 0) throw new InputError("test model shape: head_dim must be even");
}
