/** `deepconf model ...`: commander wiring only. */
import { type Command, Option } from "commander";
import { cacheDirFromEnv } from "../hf/settings.js";
import { DTYPES, type Dtype, resolveModel } from "../inference/model/index.js";
import {
  buildTestModel,
  TEST_MODEL_SHAPE_NAMES,
  type TestModelShapeName,
} from "../inference/testmodel/index.js";
import type { CliIO } from "./io.js";
import { nonNegativeInteger } from "./parse.js";
import { downloadProgress } from "./progress.js";

export function registerModel(program: Command, io: CliIO): void {
  const model = program.command("model").summary("build and inspect models");
  model
    .command("build-test")
    .summary("write a Qwen3-architecture test model with random weights (no download)")
    .description(
      "Writes a Hugging Face-style folder (config.json, generation_config.json, the real Qwen3 " +
        "tokenizer, onnx/model.onnx) holding a decoder with the Qwen3 architecture and seeded random " +
        "weights, with the exact input/output layout of onnx-community exports. Its outputs are " +
        "meaningless text: it exists for tests (tiny) and throughput benchmarks (qwen3-0.6b, ~2.4 GB).",
    )
    .requiredOption("--out <dir>", "folder to create")
    .addOption(
      new Option("--shape <name>", "model size").choices(TEST_MODEL_SHAPE_NAMES).default("tiny"),
    )
    .option("--seed <n>", "weight seed", nonNegativeInteger, 0)
    .option("--overwrite", "replace an existing test model in --out")
    .action(
      async (flags: {
        out: string;
        shape: TestModelShapeName;
        seed: number;
        overwrite?: boolean;
      }) => {
        const started = performance.now();
        const result = await buildTestModel({ ...flags, overwrite: flags.overwrite === true });
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        io.stdout(
          `built ${flags.shape} test model in ${result.dir}: ${(result.parameters / 1e6).toFixed(1)}M parameters, ` +
            `${(result.bytes / 2 ** 20).toFixed(0)} MiB, ${seconds} s (random weights: its text means nothing)\n`,
        );
      },
    );
  model
    .command("pull")
    .summary("download a model's files into the cache (no inference)")
    .description(
      "Fetches what a run of MODEL needs (config, tokenizer, the ONNX file of --dtype and its " +
        "external data) into the cache, so later runs and workers start without downloading. " +
        "Gated models need HF_TOKEN in the environment. Nodes run it once after bootstrap.",
    )
    .argument("<model>", "hub id[@revision] or a local folder")
    .addOption(
      new Option("--dtype <dtype>", "which ONNX file").choices([...DTYPES]).default("fp32"),
    )
    .option("--cache-dir <dir>", "downloads and derived graphs", cacheDirFromEnv())
    .action(async (spec: string, flags: { dtype: Dtype; cacheDir: string }) => {
      const progress = downloadProgress();
      const model = await resolveModel(spec, {
        dtype: flags.dtype,
        cacheDir: flags.cacheDir,
        onProgress: progress.onProgress,
      }).finally(progress.stop);
      const from = model.sha === undefined ? model.source : `${model.source} ${model.sha}`;
      io.stdout(`${spec} (${flags.dtype}) ready in ${model.dir} (${from})\n`);
    });
}
