/**
 * Text preparation for refusal detection: the answer part of a response, normalised, with quoted
 * speech masked, cut into sentences.
 */

/** Where the answer of a response is, given Qwen3-style `<think>...</think>` blocks. */
export type AnswerPart =
  | { kind: "answer"; text: string }
  /** `<think>` opened and never closed: the response is all thinking, there is no answer. */
  | { kind: "thinking-only" };

const THINK_CLOSE = "</think>";

/**
 * The answer of a response: the text after the last `</think>` (case-insensitive), so a trace
 * whose opening `<think>` sat in the prompt is handled too; the whole text when there is no think
 * tag; "thinking-only" when a `<think>` is never closed.
 */
export function answerPart(response: string): AnswerPart {
  const lower = response.toLowerCase();
  const close = lower.lastIndexOf(THINK_CLOSE);
  if (close >= 0) return { kind: "answer", text: response.slice(close + THINK_CLOSE.length) };
  if (lower.includes("<think>")) return { kind: "thinking-only" };
  return { kind: "answer", text: response };
}

/**
 * Curly and typographic quotes and apostrophes to ASCII, invisible characters removed, Markdown
 * bold/italic markers removed, runs of horizontal whitespace to one space. Newlines are kept:
 * they end sentences.
 */
export function normaliseText(text: string): string {
  return text
    .replace(/[\u2018\u2019\u201A\u201B\u2032\u02BC\uFF07\u00B4]/g, "'")
    .replace(/[\u201C\u201D\u201E\u201F\u2033\u00AB\u00BB\uFF02]/g, '"')
    .replace(/[\u200B-\u200D\u2060\uFEFF\u00AD]/g, "")
    .replace(/\*\*|__|(?<=\w)\*|\*(?=\w)/g, "")
    .replace(/[^\S\n]+/g, " ")
    .replace(/ ?\n ?/g, "\n")
    .trim();
}

/** What quoted text is replaced with: one neutral "word", no sentence punctuation. */
export const MASK = "\u2026";

const DOUBLE_QUOTED = /"([^"\n]{1,1000})"/g;
/**
 * A single-quoted span: the opening quote follows a space or bracket (or starts the text) and
 * precedes a non-space; the closing quote follows a non-space and precedes no letter or digit.
 * Apostrophes between letters (can't, ex's) may occur inside.
 */
const SINGLE_QUOTED = /(^|[\s([{])'(?=[^\s'])((?:[^'\n]|(?<=\w)'(?=\w)){1,300}?)(?<=\S)'(?!\w)/g;

/**
 * A line of dialogue in Spanish, French or Russian typography: a dash that opens a paragraph or
 * follows the end of a sentence, up to the next dash ("—No puedo ayudarte —dijo—"). A dash in the
 * middle of a sentence ("Nope — not going to help") is punctuation and is left alone.
 */
const DIALOGUE = /(^|[.!?:]\s+|\n)([\u2014\u2015])\s?[^\u2014\u2015\n]{1,300}/g;
/** Japanese corner quotes 「...」. */
const CORNER_QUOTED = /\u300C[^\u300D\n]{1,1000}\u300D/g;

/**
 * Replaces the inside of quoted spans and dialogue lines with MASK: words in quotes are someone's
 * speech, an example phrase or a title, not what the model itself says. A quote that spans the whole answer (some
 * models wrap their reply in quotes) is kept.
 */
export function maskQuotes(text: string): string {
  const whole = (start: number, length: number) => start === 0 && length === text.length;
  return text
    .replace(DIALOGUE, (_span, before: string, dash: string) => `${before}${dash}${MASK}`)
    .replace(CORNER_QUOTED, `\u300C${MASK}\u300D`)
    .replace(DOUBLE_QUOTED, (span, _inner, offset: number) =>
      whole(offset, span.length) ? span : `"${MASK}"`,
    )
    .replace(SINGLE_QUOTED, (span, before: string, _inner, offset: number) =>
      whole(offset, span.length) ? span : `${before}'${MASK}'`,
    );
}

export interface Sentence {
  /** Trimmed, list marker removed. */
  text: string;
  /** A list item ("1. ...", "- ...", "* ..."). */
  listItem: boolean;
}

const LIST_MARKER = /^(?:[-*\u2022>]+|\d{1,3}[.)]|#{1,6})\s+/;

/**
 * Sentences and list items: split at newlines, after . ! ? followed by a space, and after the
 * CJK full stops 。！？ (which take no space).
 */
export function sentences(text: string): Sentence[] {
  const out: Sentence[] = [];
  for (const line of text.split(/\n+/)) {
    const marker = LIST_MARKER.exec(line.trim());
    const body = marker ? line.trim().slice(marker[0].length) : line;
    for (const piece of body.split(/(?<=[.!?])\s+(?=\S)|(?<=[\u3002\uFF01\uFF1F])/)) {
      const trimmed = piece.trim();
      if (trimmed !== "") out.push({ text: trimmed, listItem: marker !== null });
    }
  }
  return out;
}

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/gu;

/**
 * Number of words (runs of letters or digits) in a piece of text. Chinese and Japanese write no
 * spaces: there every two characters count as a word, about what a translation would have.
 */
export function wordCount(text: string): number {
  const cjk = text.match(CJK)?.length ?? 0;
  const rest = cjk === 0 ? text : text.replace(CJK, " ");
  const words = rest.match(/[\p{L}\p{N}]+(?:['-][\p{L}\p{N}]+)*/gu)?.length ?? 0;
  return words + Math.ceil(cjk / 2);
}
