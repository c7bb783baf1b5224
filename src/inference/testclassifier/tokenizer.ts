/**
 * tokenizer.json and tokenizer_config.json of the tiny classifier: a BERT-style WordPiece
 * tokenizer (lower-cased, [CLS] ... [SEP]) over the hand-written vocabulary of ./weights.ts.
 * Unlike BERT's pre-tokenizer, which cuts "can't" into "can", "'", "t", words keep their inner
 * apostrophes, so contractions are whole tokens with a meaning of their own. Curly apostrophes
 * are made straight first. @huggingface/transformers loads it as a BertTokenizer.
 */
import { CLASSIFIER_VOCAB, SPECIAL_TOKENS } from "./weights.js";

/** Longest input in tokens, [CLS] and [SEP] included (the tokenizer's model_max_length). */
export const CLASSIFIER_MAX_LENGTH = 128;

/**
 * A word (letters and digits, with apostrophes inside: can't, i'm) or any other single
 * non-space character. ASCII only: other letters become single-character [UNK] tokens.
 */
export const WORD_PATTERN = "[A-Za-z0-9]+(?:'[A-Za-z0-9]+)*|[^\\sA-Za-z0-9]";

const idOf = (token: string) => CLASSIFIER_VOCAB.indexOf(token);

export function classifierTokenizerJson(): Record<string, unknown> {
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: Object.values(SPECIAL_TOKENS).map((content) => ({
      id: idOf(content),
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: "Sequence",
      normalizers: [
        { type: "Replace", pattern: { String: "\u2019" }, content: "'" },
        {
          type: "BertNormalizer",
          clean_text: true,
          handle_chinese_chars: true,
          strip_accents: null,
          lowercase: true,
        },
      ],
    },
    // invert: the pattern matches the pieces to keep, and everything else (spaces) is dropped.
    pre_tokenizer: {
      type: "Split",
      pattern: { Regex: WORD_PATTERN },
      behavior: "Removed",
      invert: true,
    },
    post_processor: {
      type: "BertProcessing",
      sep: [SPECIAL_TOKENS.sep, idOf(SPECIAL_TOKENS.sep)],
      cls: [SPECIAL_TOKENS.cls, idOf(SPECIAL_TOKENS.cls)],
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: SPECIAL_TOKENS.unk,
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(CLASSIFIER_VOCAB.map((token, id) => [token, id])),
    },
  };
}

export function classifierTokenizerConfig(): Record<string, unknown> {
  return {
    tokenizer_class: "BertTokenizer",
    do_lower_case: true,
    model_max_length: CLASSIFIER_MAX_LENGTH,
    padding_side: "right",
    truncation_side: "right",
    clean_up_tokenization_spaces: true,
    cls_token: SPECIAL_TOKENS.cls,
    sep_token: SPECIAL_TOKENS.sep,
    pad_token: SPECIAL_TOKENS.pad,
    unk_token: SPECIAL_TOKENS.unk,
    mask_token: SPECIAL_TOKENS.mask,
  };
}
