/**
 * Which language an answer is in, so a refusal in a language the patterns do not cover is flagged
 * ("unknown-language") instead of silently judged a compliance. tinyld identifies the language
 * (it is reliable on short texts, where n-gram detectors such as franc confuse Spanish with
 * Italian); it answers "" when unsure, which we report as "und" and never flag.
 */
import { detect } from "tinyld";

/** ISO 639-1 codes of the languages the pattern tables cover, with their names. */
export const COVERED_LANGUAGES: Readonly<Record<string, string>> = {
  en: "English",
  es: "Spanish",
  fr: "French",
  de: "German",
  pt: "Portuguese",
  it: "Italian",
  zh: "Chinese",
  ja: "Japanese",
  ru: "Russian",
};

/** The language of a text nobody could identify (too short, mixed). */
export const UNDETERMINED = "und";

/**
 * Below this many letters an identification of Latin-script text is a guess ("No.", "Sure!"):
 * such texts are undetermined. Other scripts name their language family in a few letters.
 */
const MIN_LATIN_LETTERS = 12;
const MIN_OTHER_LETTERS = 3;

export function isCovered(language: string): boolean {
  return Object.hasOwn(COVERED_LANGUAGES, language);
}

/** ISO 639-1 code of the text's language, or "und". */
export function identifyLanguage(text: string): string {
  const latin = text.match(/\p{Script=Latin}/gu)?.length ?? 0;
  const other = (text.match(/\p{L}/gu)?.length ?? 0) - latin;
  if (other < MIN_OTHER_LETTERS && latin < MIN_LATIN_LETTERS) return UNDETERMINED;
  return detect(text) || UNDETERMINED;
}
