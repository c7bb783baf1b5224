/** `deepconf generate`: commander wiring only. */
import { type Command, Option } from "commander";
import { DEFAULT_TOPK } from "../engine/confidence.js";
import { InputError } from "../errors.js";
import { cacheDirFromEnv } from "../hf/settings.js";
import { type GenerateTextReport, generateText } from "../inference/generate-text.js";
import { DTYPES, type Dtype } from "../inference/model/index.js";
import { loadModel } from "../inference/model.js";
import { QWEN3_SAMPLING, type SamplingOptions } from "../inference/sampling.js";
import type { Device } from "../inference/session.js";
import type { CliIO } from "./io.js";
import { nonNegativeInteger, numberIn, positiveInteger } from "./parse.js";
import { downloadProgress } from "./progress.js";

interface GenerateFlags {
  model: string;
  prompt: string;
  system?: string;
  traces: number;
  greedy?: boolean;
  temperature?: number;
  topP?: number;
  topK?: number;
  seed: number;
  maxNewTokens: number;
  thinking?: boolean;
  device: Device;
  deviceId: number;
  threads?: number;
  dtype: Dtype;
  window: number;
  cacheDir: string;
  offline?: boolean;
  json?: boolean;
}

function samplingFrom(flags: GenerateFlags): SamplingOptions {
  const defaults = QWEN3_SAMPLING[flags.thinking ? "thinking" : "plain"];
  if (flags.greedy && (flags.temperature ?? flags.topP ?? flags.topK) !== undefined) {
    throw new InputError("--greedy takes no --temperature, --top-p or --top-k");
  }
  return {
    greedy: flags.greedy === true,
    temperature: flags.temperature ?? defaults.temperature,
    topP: flags.topP ?? defaults.topP,
    topK: flags.topK ?? defaults.topK,
  };
}

const round = (x: number | null) => (x === null ? "-" : x.toFixed(2));

function readable(report: GenerateTextReport): string {
  const lines = [`${report.model} on ${report.device}: ${report.prompt_tokens} prompt tokens`];
  report.traces.forEach((trace, i) => {
    const c = trace.confidence;
    lines.push(
      "",
      `--- trace ${i}: ${trace.token_ids.length} tokens, ${trace.finish_reason}; confidence mean ` +
        `${round(c.mean)}, lowest ${round(c.lowest)}, bottom10 ${round(c.bottom10)}, tail ${round(c.tail)}`,
      trace.text,
    );
  });
  const t = report.timing;
  lines.push(
    "",
    `prefill ${t.prefill_ms.toFixed(0)} ms, decode ${t.decode_ms.toFixed(0)} ms, ${t.tokens_per_s.toFixed(1)} tokens/s`,
  );
  return `${lines.join("\n")}\n`;
}

export function registerGenerate(program: Command, io: CliIO): void {
  program
    .command("generate")
    .summary("sample traces from a local ONNX model, with per-token DeepConf confidence")
    .description(
      "Applies the model's chat template to the prompt, prefills it once and decodes --traces " +
        "sampled answers in one batch, reporting each trace's text, finish reason and DeepConf " +
        "confidences. MODEL is a local folder (config.json, tokenizer, onnx/) or a hub id such as " +
        "onnx-community/Qwen3-0.6B-ONNX (downloaded once into the cache). Sampling defaults are " +
        "Qwen3's: temperature 0.7, top-p 0.8, top-k 20; with --thinking 0.6, 0.95, 20.",
    )
    .requiredOption("--model <model>", "model folder or hub id[@revision]")
    .requiredOption("--prompt <text>", "user message")
    .option("--system <text>", "system message")
    .option("--traces <n>", "traces to sample", positiveInteger, 1)
    .option("--greedy", "always take the most likely token")
    .option("--temperature <t>", "sampling temperature", numberIn(0, 100, { minExclusive: true }))
    .option("--top-p <p>", "nucleus sampling mass", numberIn(0, 1, { minExclusive: true }))
    .option("--top-k <k>", "sample among the k most likely tokens", positiveInteger)
    .option("--seed <n>", "random seed; trace i uses stream i of it", nonNegativeInteger, 0)
    .option("--max-new-tokens <n>", "most tokens per trace", positiveInteger, 256)
    .option("--thinking", "Qwen3 thinking mode (enable_thinking)")
    .addOption(
      new Option("--device <device>", "execution provider")
        .choices(["cpu", "cuda", "webgpu", "auto"])
        .default("cpu"),
    )
    .option("--device-id <n>", "CUDA device ordinal", nonNegativeInteger, 0)
    .option("--threads <n>", "CPU threads (default: all cores)", positiveInteger)
    .addOption(
      new Option("--dtype <dtype>", "which ONNX file of the model")
        .choices([...DTYPES])
        .default("fp32"),
    )
    .option("--window <n>", "window of the reported group confidences", positiveInteger, 2048)
    .option("--cache-dir <dir>", "downloads and derived graphs", cacheDirFromEnv())
    .option("--offline", "never use the network (also HF_HUB_OFFLINE=1)")
    .option("--json", "print one JSON document")
    .action(async (flags: GenerateFlags) => {
      const sampling = samplingFrom(flags);
      const progress = downloadProgress();
      const model = await loadModel(flags.model, {
        dtype: flags.dtype,
        device: flags.device,
        deviceId: flags.deviceId,
        threads: flags.threads,
        topk: Math.max(DEFAULT_TOPK, sampling.topK),
        cacheDir: flags.cacheDir,
        offline: flags.offline,
        onProgress: progress.onProgress,
      }).finally(progress.stop);
      for (const note of model.notes) io.stderr(`deepconf: ${note}\n`);
      const report = await generateText(model, {
        prompt: flags.prompt,
        system: flags.system,
        thinking: flags.thinking === true,
        traces: flags.traces,
        sampling,
        seed: flags.seed,
        maxNewTokens: flags.maxNewTokens,
        window: flags.window,
        tail: flags.window,
        confidenceTopk: DEFAULT_TOPK,
      });
      io.stdout(flags.json ? `${JSON.stringify(report)}\n` : readable(report));
    });
}
