/**
 * Writes the tiny classifier as a Hugging Face-style folder:
 *   config.json (id2label NORMAL / REJECTION), tokenizer.json, tokenizer_config.json,
 *   onnx/model.onnx.
 * Built in a hidden sibling and renamed into place, so a killed build never leaves a folder that
 * looks complete. The output depends on nothing but this code: every build is byte-identical.
 */
import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import onnxProto from "onnx-proto";
import { writeBuiltFolder } from "../testmodel/folder.js";
import { buildClassifierModel } from "./graph.js";
import {
  CLASSIFIER_MAX_LENGTH,
  classifierTokenizerConfig,
  classifierTokenizerJson,
} from "./tokenizer.js";
import { CLASSIFIER_LABELS, CLASSIFIER_VOCAB, FEATURES } from "./weights.js";

const { onnx } = onnxProto;

export const CLASSIFIER_MODEL_FILE = "onnx/model.onnx";
/** The config.json key that marks a folder as built here (and so safe to overwrite). */
const MARKER = "deepconf_test_classifier";

export interface BuildTestClassifierOptions {
  /** The folder to create. */
  out: string;
  /** Replace `out` when it already holds a test classifier built by this module. */
  overwrite?: boolean;
}

export function classifierConfig(): Record<string, unknown> {
  return {
    architectures: ["BertForSequenceClassification"],
    model_type: "bert",
    hidden_size: FEATURES.length,
    vocab_size: CLASSIFIER_VOCAB.length,
    max_position_embeddings: CLASSIFIER_MAX_LENGTH,
    pad_token_id: 0,
    problem_type: "single_label_classification",
    id2label: Object.fromEntries(CLASSIFIER_LABELS.map((label, id) => [String(id), label])),
    label2id: Object.fromEntries(CLASSIFIER_LABELS.map((label, id) => [label, id])),
    [MARKER]: { note: "hand-set bag-of-words weights; a crude refusal classifier for tests" },
  };
}

/** Builds the folder; returns its absolute path. */
export async function buildTestClassifier(options: BuildTestClassifierOptions): Promise<string> {
  const dir = resolve(options.out);
  const built = { overwrite: options.overwrite ?? false, marker: MARKER, what: "test classifier" };
  await writeBuiltFolder(dir, built, async (work) => {
    const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
    await writeFile(join(work, "config.json"), json(classifierConfig()));
    await writeFile(join(work, "tokenizer.json"), json(classifierTokenizerJson()));
    await writeFile(join(work, "tokenizer_config.json"), json(classifierTokenizerConfig()));
    const model = onnx.ModelProto.encode(buildClassifierModel()).finish();
    await writeFile(join(work, CLASSIFIER_MODEL_FILE), model);
  });
  return dir;
}
