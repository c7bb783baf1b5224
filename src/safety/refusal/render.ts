/** Plain-text report of a refusal evaluation (`deepconf refusal eval` without --json). */
import type { JudgeEvaluation } from "../judge/evaluate.js";
import type { BinaryScores, Proportion, RefusalEvaluation } from "./evaluate.js";

const pct = (value: number | null) => (value === null ? "-" : `${(value * 100).toFixed(1)}%`);

function proportion(p: Proportion): string {
  if (p.value === null) return "- (n=0)";
  return `${pct(p.value)} [${pct(p.low)}, ${pct(p.high)}] (${p.successes}/${p.n})`;
}

function scoreLines(label: string, s: BinaryScores): string[] {
  const { tp, fp, fn, tn } = s.confusion;
  return [
    `${label} (n=${s.n})`,
    `  precision ${proportion(s.precision)}`,
    `  recall    ${proportion(s.recall)}`,
    `  F1        ${s.f1 === null ? "-" : s.f1.toFixed(3)}`,
    `  accuracy  ${proportion(s.accuracy)}`,
    `  confusion tp ${tp}  fp ${fp}  fn ${fn}  tn ${tn}`,
  ];
}

/**
 * The report: headline scores with Wilson 95% intervals, the baseline's, the unjudged count, per
 * language and per trap, the fine-label confusion, and every error grouped by kind (at most
 * `maxErrors` shown per group).
 */
export function evaluationText(
  name: string,
  evaluation: RefusalEvaluation,
  notes: readonly string[] = [],
  judge: JudgeEvaluation | null = null,
  maxErrors = 10,
): string {
  const e = evaluation;
  const out: string[] = [
    `refusal detector on ${name}: ${e.n} responses, ${e.judged} judged`,
    `labels: ${Object.entries(e.labels)
      .map(([label, n]) => `${label} ${n}`)
      .join(", ")}`,
    "refusal (full or partial) is the positive class; intervals are Wilson 95%",
    ...notes.map((note) => `note: ${note}`),
    "",
    ...scoreLines("ours", e.binary),
    ...scoreLines("baseline (29 test prefixes)", e.baseline.binary),
  ];
  if (judge !== null) {
    const a = judge.agreement;
    out.push(
      ...scoreLines(`classifier judge ${judge.spec}`, judge.binary),
      `agreement with the rules: ${proportion(a.rate)}, Cohen's kappa ${a.cohen_kappa === null ? "-" : a.cohen_kappa.toFixed(3)}; both refusal ${a.both_refusal}, rules only ${a.rules_only}, classifier only ${a.classifier_only}, neither ${a.neither}, unpaired ${a.unpaired}`,
    );
  }
  const u = e.unknown_language;
  if (u.n > 0) {
    const languages = Object.entries(u.languages)
      .map(([language, n]) => `${language} ${n}`)
      .join(", ");
    out.push(
      "",
      `not judged (unknown language): ${u.n} (${languages}); ${u.gold_refusals} of them labelled refusals`,
    );
  }
  if (e.kinds !== null) {
    out.push("", `kind accuracy ${proportion(e.kinds.accuracy)}`, "confusion (label -> kind):");
    for (const [label, row] of Object.entries(e.kinds.confusion)) {
      const cells = Object.entries(row)
        .filter(([, n]) => n > 0)
        .map(([kind, n]) => `${kind} ${n}`)
        .join(", ");
      if (cells !== "") out.push(`  ${label}: ${cells}`);
    }
  }
  const languages = Object.entries(e.by_language);
  if (languages.length > 1) {
    out.push("", "by language:");
    for (const [language, s] of languages) {
      out.push(
        `  ${language.padEnd(4)} n=${String(s.n).padEnd(4)} recall ${proportion(s.recall)}  precision ${proportion(s.precision)}`,
      );
    }
  }
  const traps = Object.entries(e.traps);
  if (traps.length > 0) {
    out.push("", "by trap (binary errors ours / baseline, kind errors ours):");
    for (const [trap, t] of traps) {
      out.push(
        `  ${trap.padEnd(24)} n=${String(t.n).padEnd(4)} ${t.binary_errors} / ${t.baseline_errors}, ${t.kind_errors}`,
      );
    }
  }
  const errors = Object.entries(e.errors);
  out.push("", errors.length === 0 ? "errors: none" : "errors by kind (label -> verdict):");
  for (const [key, list] of errors) {
    out.push(`  ${key}: ${list.length}`);
    for (const error of list.slice(0, maxErrors)) {
      const id = error.id ?? `line ${error.line}`;
      const excerpt = JSON.stringify(error.excerpt.replace(/\s+/g, " "));
      out.push(
        `    ${id} [${error.language}${error.pattern ? `, ${error.pattern}` : ""}] ${excerpt}`,
      );
    }
    if (list.length > maxErrors)
      out.push(`    ... ${list.length - maxErrors} more (--json lists all)`);
  }
  return `${out.join("\n")}\n`;
}
