/**
 * The decoder on a worker thread. onnxruntime-node's session.run() is a synchronous native call:
 * on the main thread it blocks the event loop for a whole decode step, which stalls a queue
 * worker's lock renewals or a dashboard. Here the model lives in a worker_thread; the main thread
 * only sends requests and receives finished traces. The per-step hook cannot cross threads, so
 * DeepConf's stop rule travels as data: a window and a threshold per request, run in the worker.
 */
import { Worker } from "node:worker_threads";
import type { TraceStats } from "../engine/types.js";
import { InputError } from "../errors.js";
import type { FinishReason, GenerationRequest, GenerationTiming } from "./decoder.js";
import type { LoadedModel, LoadModelOptions } from "./model.js";
import type { SamplingOptions } from "./sampling.js";
import type { ChatPrompt } from "./tokenizer.js";

/** DeepConf's online stop rule for one request's traces (threshold null: never stop). */
export interface StopRule {
  window: number;
  tail: number;
  topk: number;
  threshold: number | null;
}

export interface ThreadRequest extends GenerationRequest {
  stop: StopRule;
}

export interface ThreadGenerationOptions {
  sampling: SamplingOptions;
  maxNewTokens: number;
  /** Rows in flight at most across concurrent calls (continuous batching); unset: no limit. */
  maxRows?: number;
}

export interface ThreadTrace {
  request: number;
  trace: number;
  tokenIds: number[];
  text: string;
  finishReason: FinishReason;
  stats: TraceStats;
  /** Token confidences C_i under the request's top-k, so the caller can replay the stop rule. */
  confidences: Float64Array;
}

export interface ThreadResult {
  traces: ThreadTrace[];
  timing: GenerationTiming;
}

/** What the loaded model is, for manifests and defaults: LoadedModel without its live parts. */
export type ThreadInfo = Pick<
  LoadedModel,
  "dir" | "parameters" | "source" | "device" | "notes" | "generationConfig"
> & { topk: number };

/** Messages between the threads; each reply carries the id of the call it answers. */
type Call =
  | { kind: "load"; spec: string; options: Omit<LoadModelOptions, "onProgress"> }
  | { kind: "prompt"; chat: ChatPrompt }
  | { kind: "generate"; requests: ThreadRequest[]; options: ThreadGenerationOptions };
export type ToWorker = Call & { id: number };
export type FromWorker =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; message: string; input: boolean };

export class DecoderThread {
  private next = 0;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();

  private constructor(private readonly worker: Worker) {
    worker.on("message", (message: FromWorker) => {
      const call = this.pending.get(message.id);
      if (!call) return;
      this.pending.delete(message.id);
      if (message.ok) call.resolve(message.value);
      else
        call.reject(message.input ? new InputError(message.message) : new Error(message.message));
    });
    worker.on("error", (error) => this.failAll(error));
    worker.on("exit", (code) => this.failAll(new Error(`decoder thread exited with code ${code}`)));
  }

  /** Starts a worker thread and loads the model there. */
  static async start(
    spec: string,
    options: Omit<LoadModelOptions, "onProgress">,
  ): Promise<{ thread: DecoderThread; info: ThreadInfo }> {
    // Compiled, the worker is a .js file. From source (tests, tsx) it is .ts and the worker
    // registers tsx's loader itself: loader flags do not reach worker threads.
    const fromSource = import.meta.url.endsWith(".ts");
    const url = new URL(fromSource ? "./thread-worker.ts" : "./thread-worker.js", import.meta.url);
    const worker = fromSource
      ? new Worker(
          `import("tsx/esm/api").then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); });`,
          { eval: true },
        )
      : new Worker(url);
    const thread = new DecoderThread(worker);
    try {
      const info = (await thread.call({ kind: "load", spec, options })) as ThreadInfo;
      return { thread, info };
    } catch (error) {
      await thread.close();
      throw error;
    }
  }

  /** Prompt token ids: the model's chat template with the generation prompt appended. */
  promptIds(chat: ChatPrompt): Promise<number[]> {
    return this.call({ kind: "prompt", chat }) as Promise<number[]>;
  }

  generate(requests: ThreadRequest[], options: ThreadGenerationOptions): Promise<ThreadResult> {
    return this.call({ kind: "generate", requests, options }) as Promise<ThreadResult>;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private call(message: Call): Promise<unknown> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id });
    });
  }

  private failAll(error: Error): void {
    for (const call of this.pending.values()) call.reject(error);
    this.pending.clear();
  }
}
