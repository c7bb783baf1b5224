import { describe, expect, test } from "vitest";
import { chatPromptIds, decodeText, loadTokenizer } from "../../src/inference/tokenizer.js";
import { tinyModelDir } from "../support/tiny-model.js";

const THINK = 151667;
const END_THINK = 151668;
const IM_START = 151644;

describe("tokenizer and Qwen3 chat template, offline", () => {
  test("enable_thinking false appends an empty think block; true leaves it to the model", async () => {
    const tokenizer = await loadTokenizer(tinyModelDir());
    const plain = chatPromptIds(tokenizer, { prompt: "Hello", thinking: false });
    const thinking = chatPromptIds(tokenizer, { prompt: "Hello", thinking: true });
    expect(plain.slice(-4, -2)).toEqual([THINK, 271]); // "<think>", "\n\n"
    expect(plain).toContain(END_THINK);
    expect(thinking).not.toContain(THINK);
    expect(decodeText(tokenizer, thinking)).toContain("Hello");
  });

  test("a system message comes first", async () => {
    const tokenizer = await loadTokenizer(tinyModelDir());
    const ids = chatPromptIds(tokenizer, { prompt: "Hi", system: "Be brief.", thinking: false });
    expect(ids[0]).toBe(IM_START);
    expect(tokenizer.decode(ids)).toMatch(
      /^<\|im_start\|>system\nBe brief\.<\|im_end\|>\n<\|im_start\|>user\nHi/,
    );
  });
});
