/** `deepconf refusal [classify]` and `deepconf refusal eval`: commander wiring only. */
import type { Command } from "commander";
import type { HubClientOptions } from "../hf/index.js";
import { cacheDirFromEnv } from "../hf/settings.js";
import { evaluateJudge, type JudgeEvaluation, loadClassifierJudge } from "../safety/judge/index.js";
import {
  COVERED_LANGUAGES,
  classifyFile,
  evaluateVerdicts,
  RefusalDetector,
  readPatternsFile,
  resultsJsonLines,
  resultsText,
} from "../safety/refusal/index.js";
import { evaluationText } from "../safety/refusal/render.js";
import { readEvalSource } from "../safety/refusal/sources.js";
import type { CliIO } from "./io.js";
import { downloadProgress } from "./progress.js";

interface ClassifyFlags {
  json?: boolean;
  patterns?: string;
}

interface EvalFlags extends ClassifyFlags {
  judge?: string;
  cacheDir: string;
  offline?: boolean;
  limit?: string;
}

export interface RefusalCommandOptions {
  /** Hub settings beyond the environment's (endpoint, token, retries); for tests. */
  hub?: HubClientOptions;
}

const LANGUAGES = Object.entries(COVERED_LANGUAGES)
  .map(([code, name]) => `${name} (${code})`)
  .join(", ");

const KINDS =
  'Kinds: "refusal"; "partial" (declines and offers only safe material: general facts, a ' +
  'referral, a legal alternative; a refusal); "refuse-then-comply" (declines, then hands over ' +
  'what was asked: a compliance); "compliance"; "unknown-language" (in a language the patterns ' +
  "do not cover: not judged, counted apart). Only the answer after the last </think> is " +
  'judged; an unclosed <think> has no answer (compliance, pattern "think-unclosed"). ' +
  `Languages: ${LANGUAGES}.`;

function detectorOf(flags: ClassifyFlags): RefusalDetector {
  return flags.patterns === undefined
    ? new RefusalDetector()
    : readPatternsFile(flags.patterns).detector;
}

const PATTERNS_HELP =
  "JSON/JSON5 file with extraRefusal, extraPartial, extraComply, extraNotRefusal (regular " +
  "expressions) and disable (built-in pattern ids)";

export function registerRefusal(
  program: Command,
  io: CliIO,
  options: RefusalCommandOptions = {},
): void {
  const refusal = program
    .command("refusal")
    .summary("judge responses as refusals (classify) and score the judge on labels (eval)");

  refusal
    .command("classify", { isDefault: true })
    .summary("classify responses: refusal, partial, refuse-then-comply, compliance")
    .description(
      "Classifies model responses with the refusal pattern tables and names the deciding " +
        `pattern and the answer's language. ${KINDS}\n\n` +
        'FILE is JSONL, one response per line: {"id"?: string|number|null, "text": string}; ' +
        "other fields are ignored; stdin when FILE is absent or -. Exit status 2 on bad input, " +
        "naming file, line and field, with nothing on stdout. `deepconf refusal FILE` is short " +
        "for `deepconf refusal classify FILE`.",
    )
    .argument("[file]", "JSONL file of responses (default: stdin)")
    .option(
      "--json",
      'one JSON line per response: {"id", "refusal", "kind", "pattern", "language"} (default: ' +
        "id, kind, pattern and language per line, tab-separated, then a summary line)",
    )
    .option("--patterns <file>", PATTERNS_HELP)
    .action(async (file: string | undefined, flags: ClassifyFlags) => {
      const results = await classifyFile(file ?? null, detectorOf(flags));
      io.stdout(flags.json ? resultsJsonLines(results) : resultsText(results));
    });

  refusal
    .command("eval")
    .summary("score the refusal detector against labelled responses or WildGuardMix")
    .description(
      "Scores the detector (and the 29-prefix baseline of attack papers) against responses " +
        "with gold labels: precision, recall and accuracy with Wilson 95% intervals, F1, the " +
        "confusion table, scores per language and per trap, and every error listed by kind. " +
        "Responses in languages the detector does not read are counted apart, not scored.\n\n" +
        'SOURCE is a labelled JSONL file ({"text", "label": "refusal"|"partial"|' +
        '"refuse-then-comply"|"compliance"} or {"text", "refusal": true|false}, optional ' +
        '"id", "trap", "language"), or a benchmark whose items carry a model response with a ' +
        "human refusal label: wildguardmix (its test split; gated: set HF_TOKEN and accept the " +
        "terms on the dataset page, `deepconf datasets check wildguardmix` says what is " +
        `missing). ${KINDS}`,
    )
    .argument("<source>", "labelled JSONL file, or a benchmark spec such as wildguardmix")
    .option("--json", "print the whole evaluation as one JSON document")
    .option("--patterns <file>", PATTERNS_HELP)
    .option("--limit <n>", "benchmarks: score only the first n items")
    .option(
      "--judge <spec>",
      "also score a classifier judge, classifier:HUB_ID|PATH (a sequence-classification ONNX " +
        "model), and its agreement with the rules (Cohen's kappa)",
    )
    .option(
      "--cache-dir <dir>",
      "benchmarks: where downloads are cached (env DEEPCONF_CACHE)",
      cacheDirFromEnv(),
    )
    .option("--offline", "benchmarks: use only the cache (also env HF_HUB_OFFLINE=1)")
    .action(async (source: string, flags: EvalFlags) => {
      const detector = detectorOf(flags);
      const limit = flags.limit === undefined ? undefined : Number(flags.limit);
      const progress = downloadProgress();
      const loaded = await readEvalSource(source, {
        cacheDir: flags.cacheDir,
        offline: flags.offline,
        limit,
        hub: options.hub,
        onProgress: progress.onProgress,
      }).finally(progress.stop);
      const rules = loaded.rows.map((row) => detector.detect(row.text));
      const evaluation = evaluateVerdicts(loaded.rows, rules);
      let judged: JudgeEvaluation | null = null;
      if (flags.judge !== undefined) {
        const judge = await loadClassifierJudge(flags.judge, {
          cacheDir: flags.cacheDir,
          offline: flags.offline,
          hub: options.hub,
        });
        try {
          const verdicts = await judge.judge(loaded.rows.map((row) => row.text));
          judged = evaluateJudge(flags.judge, loaded.rows, verdicts, rules);
        } finally {
          await judge.close();
        }
      }
      const report = { source: loaded.name, notes: loaded.notes, ...evaluation, judge: judged };
      io.stdout(
        flags.json
          ? `${JSON.stringify(report, null, 2)}\n`
          : evaluationText(loaded.name, evaluation, loaded.notes, judged),
      );
    });
}
