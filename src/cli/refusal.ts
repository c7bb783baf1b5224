/** `deepconf refusal`: commander wiring only. */
import type { Command } from "commander";
import {
  classifyFile,
  RefusalDetector,
  readPatternsFile,
  resultsJsonLines,
  resultsText,
} from "../safety/refusal/index.js";
import type { CliIO } from "./io.js";

interface RefusalFlags {
  json?: boolean;
  patterns?: string;
}

export function registerRefusal(program: Command, io: CliIO): void {
  program
    .command("refusal")
    .summary("classify responses as refusal, partial refusal or compliance (English patterns)")
    .description(
      "Classifies model responses with the refusal pattern library: refusal, partial " +
        "(declines part, gives content) or compliance, and the id of the deciding pattern. " +
        "Only the answer after the last </think> is judged; an unclosed <think> has no answer " +
        '(compliance, pattern "think-unclosed"). English only.\n\n' +
        'FILE is JSONL, one response per line: {"id"?: string|number|null, "text": string}; ' +
        "other fields are ignored; stdin when FILE is absent or -. Exit status 2 on bad input, " +
        "naming file, line and field, with nothing on stdout.",
    )
    .argument("[file]", "JSONL file of responses (default: stdin)")
    .option(
      "--json",
      'one JSON line per response: {"id", "refusal", "kind", "pattern"} (default: id, kind ' +
        "and pattern per line, tab-separated, then a summary line)",
    )
    .option(
      "--patterns <file>",
      "JSON/JSON5 file with extraRefusal, extraPartial, extraNotRefusal (regular expressions) " +
        "and disable (built-in pattern ids)",
    )
    .action(async (file: string | undefined, flags: RefusalFlags) => {
      const detector =
        flags.patterns === undefined
          ? new RefusalDetector()
          : readPatternsFile(flags.patterns).detector;
      const results = await classifyFile(file ?? null, detector);
      io.stdout(flags.json ? resultsJsonLines(results) : resultsText(results));
    });
}
