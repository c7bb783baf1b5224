/** `deepconf model ...`: commander wiring only. */
import { type Command, Option } from "commander";
import {
  buildTestModel,
  TEST_MODEL_SHAPE_NAMES,
  type TestModelShapeName,
} from "../inference/testmodel/index.js";
import type { CliIO } from "./io.js";
import { nonNegativeInteger } from "./parse.js";

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
}
