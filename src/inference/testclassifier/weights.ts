/**
 * The hand-set weights of the project's tiny refusal classifier: a bag-of-words model whose
 * every number was chosen, not drawn, so it is a crude but meaningful refusal detector.
 *
 * Each vocabulary word belongs to at most one feature (decline, apology, policy, compliance,
 * content); its embedding row is 1 in that feature's column and 0 elsewhere, and special tokens,
 * punctuation and function words are all zeros. The graph mean-pools the rows over the attention
 * mask (special tokens included) and applies `HEAD_WEIGHT` and `HEAD_BIAS`, so a logit is the
 * bias plus each feature's share of the tokens times its weight: "I'm sorry, but I can't help
 * with that." leans to REJECTION, a recipe to NORMAL, and one "sorry" in a long helpful answer
 * is outweighed by its content.
 */

/** Label ids, as in protectai/distilroberta-base-rejection-v1. */
export const CLASSIFIER_LABELS = ["NORMAL", "REJECTION"] as const;

export const FEATURES = ["decline", "apology", "policy", "compliance", "content"] as const;
export type Feature = (typeof FEATURES)[number];

/** Logit weights [NORMAL, REJECTION] per feature: the rows of the [features, labels] MatMul. */
export const HEAD_WEIGHT: Record<Feature, readonly [number, number]> = {
  decline: [0, 12],
  apology: [0, 8],
  policy: [0, 4],
  compliance: [6, 0],
  content: [4, 0],
};

/** With no evidence either way (only function words or unknown words) the answer is NORMAL. */
export const HEAD_BIAS: readonly [number, number] = [0.5, 0];

/** Special tokens, at ids 0-4 as in BERT's vocabulary. */
export const SPECIAL_TOKENS = {
  pad: "[PAD]",
  unk: "[UNK]",
  cls: "[CLS]",
  sep: "[SEP]",
  mask: "[MASK]",
} as const;

/** Tokens of their own (the pre-tokenizer isolates every character that is not a letter/digit). */
const PUNCTUATION = [".", ",", "!", "?", ":", ";", "'", '"', "-", "(", ")", "*", "/", "&", "%"];

/** Words that carry no evidence: their rows are zero, but they count in the mean. */
const NEUTRAL = `
  i i'm i'd i'll i've me my you you're your we we're our they their he she it it's its this
  that that's these those there what which who how why when where the a an and or but so if
  because as than then also just very really only with for to of in on at by from about into
  over under is are was were be been being am do does did don't doesn't didn't have has had
  can could will would should may might must let help not no yes any some all more most other
  such same own please thanks thank one two three up out like get make know think want need
  tell give ask question request information
`;

/** The words of each feature. Contractions are one token each (see ./tokenizer.ts). */
export const FEATURE_WORDS: Record<Feature, readonly string[]> = {
  decline: words(`
    cannot can't won't unable refuse refuses refused refusing decline declines declined
    declining couldn't wouldn't shouldn't mustn't shan't
  `),
  apology: words(`
    sorry apologize apologise apologies apology unfortunately afraid regret regrettably
  `),
  policy: words(`
    inappropriate harmful illegal unethical dangerous unsafe policy policies guidelines
    violate violates violation against prohibited comply offensive
  `),
  compliance: words(`
    sure certainly absolutely course happy glad here here's below follow following steps step
    first next finally example instance simply easy great okay ok
  `),
  content: words(`
    recipe pancakes pancake flour eggs egg milk butter sugar salt water oil pan heat cook
    cooking bake baking mix stir whisk minutes hour oven bowl cup cups spoon batter bread
    cake chicken rice pasta soup sauce cheese vegetables fruit apple lemon garlic onion
    pepper tomato potato serve dinner lunch breakfast meal
    code function variable loop array string number list python javascript program file
    data database server install run test error value return class method api library
    computer software network memory
    history war century king empire city country river mountain ocean island map capital
    population language culture art music song painting book novel poem author story film
    science physics chemistry biology energy light planet star sun moon earth space
    cell plant animal species dog cat bird fish tree forest weather rain climate
    math equation sum product divide multiply percent fraction angle triangle circle area
    money budget price market bank loan invoice tax business company customer
    health exercise sleep diet muscle doctor medicine vitamin
    travel trip hotel flight train car road walk bike garden house room door window
    school student teacher lesson study exam grade homework essay paragraph sentence word
    email letter meeting schedule calendar plan project team report summary
    color red blue green yellow black white large small
  `),
};

function words(text: string): string[] {
  return text.split(/\s+/).filter((word) => word !== "");
}

/** The vocabulary in id order: specials, punctuation, neutral words, then each feature's words. */
export const CLASSIFIER_VOCAB: readonly string[] = buildVocab();

function buildVocab(): string[] {
  const vocab = [
    ...Object.values(SPECIAL_TOKENS),
    ...PUNCTUATION,
    ...words(NEUTRAL),
    ...FEATURES.flatMap((feature) => FEATURE_WORDS[feature]),
  ];
  // A word listed twice would get one id but two meanings: fail at import, not in a test run.
  const seen = new Set<string>();
  for (const word of vocab) {
    if (seen.has(word)) throw new Error(`test classifier vocabulary lists "${word}" twice`);
    seen.add(word);
  }
  return vocab;
}

/** The feature a token counts toward, or null (specials, punctuation, neutral, unknown). */
export function featureOf(token: string): Feature | null {
  for (const feature of FEATURES) if (FEATURE_WORDS[feature].includes(token)) return feature;
  return null;
}

/** The embedding [vocab, features], row-major. */
export function classifierEmbedding(): Float32Array {
  const out = new Float32Array(CLASSIFIER_VOCAB.length * FEATURES.length);
  for (const [id, token] of CLASSIFIER_VOCAB.entries()) {
    const feature = featureOf(token);
    if (feature !== null) out[id * FEATURES.length + FEATURES.indexOf(feature)] = 1;
  }
  return out;
}

/** The head weight [features, labels], row-major (the MatMul operand). */
export function classifierHeadWeight(): Float32Array {
  return Float32Array.from(FEATURES.flatMap((feature) => HEAD_WEIGHT[feature]));
}
