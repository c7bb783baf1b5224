/** Worker-thread side of DecoderThread: owns the model, runs generations, applies stop rules. */
import { parentPort } from "node:worker_threads";
import { ConfidenceMonitor } from "../engine/monitor.js";
import { InputError } from "../errors.js";
import { type LoadedModel, loadModel } from "./model.js";
import type { FromWorker, ThreadInfo, ThreadResult, ToWorker } from "./thread.js";
import { chatPromptIds, decodeText } from "./tokenizer.js";

let model: LoadedModel | null = null;

async function handle(message: ToWorker): Promise<unknown> {
  if (message.kind === "load") {
    model = await loadModel(message.spec, message.options);
    const info: ThreadInfo = {
      dir: model.dir,
      parameters: model.parameters,
      source: model.source,
      device: model.device,
      notes: model.notes,
      generationConfig: model.generationConfig,
      topk: model.decoder.shape.topk,
    };
    return info;
  }
  if (!model) throw new Error("no model loaded in the decoder thread");
  const loaded = model;
  if (message.kind === "prompt") return chatPromptIds(loaded.tokenizer, message.chat);
  const monitors = message.requests.map((request) =>
    Array.from({ length: request.traces }, () => new ConfidenceMonitor(request.stop)),
  );
  const result = await loaded.decoder.generate(message.requests, {
    ...message.options,
    eosTokenIds: loaded.eosTokenIds,
    padTokenId: loaded.padTokenId,
    onStep: (step) => monitors[step.request]?.[step.trace]?.pushLogprobs(step.logprobs),
  });
  const reply: ThreadResult = {
    timing: result.timing,
    traces: result.traces.map((trace) => {
      const monitor = (monitors[trace.request] as ConfidenceMonitor[])[
        trace.trace
      ] as ConfidenceMonitor;
      return {
        ...trace,
        text: decodeText(loaded.tokenizer, trace.tokenIds),
        stats: monitor.stats(),
        confidences: monitor.tokenConfidences(),
      };
    }),
  };
  return reply;
}

parentPort?.on("message", (message: ToWorker) => {
  handle(message).then(
    (value) => parentPort?.postMessage({ id: message.id, ok: true, value } satisfies FromWorker),
    (error: Error) =>
      parentPort?.postMessage({
        id: message.id,
        ok: false,
        message: error.message,
        input: error instanceof InputError,
      } satisfies FromWorker),
  );
});
