/** Tokenizer and chat template of a model folder, through transformers.js, never online. */
import { basename, dirname, resolve } from "node:path";
import { AutoTokenizer, env, type PreTrainedTokenizer } from "@huggingface/transformers";

export interface ChatPrompt {
  prompt: string;
  system?: string;
  /** Qwen3 `enable_thinking`: false appends an empty <think></think> block to the prompt. */
  thinking: boolean;
}

export async function loadTokenizer(modelDir: string): Promise<PreTrainedTokenizer> {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  // transformers.js joins localModelPath and the model id, so split an absolute folder in two.
  const dir = resolve(modelDir);
  env.localModelPath = dirname(dir);
  return AutoTokenizer.from_pretrained(basename(dir), { local_files_only: true });
}

/** Prompt token ids: the chat template with the generation prompt appended. */
export function chatPromptIds(tokenizer: PreTrainedTokenizer, chat: ChatPrompt): number[] {
  const messages = [
    ...(chat.system === undefined ? [] : [{ role: "system", content: chat.system }]),
    { role: "user", content: chat.prompt },
  ];
  const ids = tokenizer.apply_chat_template(messages, {
    add_generation_prompt: true,
    tokenize: true,
    return_tensor: false,
    return_dict: false,
    enable_thinking: chat.thinking,
  } as Parameters<PreTrainedTokenizer["apply_chat_template"]>[1]);
  return Array.from(ids as unknown as ArrayLike<number>, Number);
}

export function decodeText(tokenizer: PreTrainedTokenizer, ids: readonly number[]): string {
  return tokenizer.decode([...ids], { skip_special_tokens: true });
}
