/**
 * Each run's figures and HTML report, regenerated on demand (what `deepconf figures` and
 * `deepconf report` write into the run directory), and the files the page may link to: a run of
 * a sweep under the dashboard's --out, and only its report.html or figures/<name>.svg|png.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { analyzeRuns } from "../analysis/analyze.js";
import { compareRuns } from "../analysis/compare.js";
import { buildFigureInputs, renderFigures, writeFigures } from "../analysis/figures/index.js";
import { reportHtml } from "../analysis/report/html.js";
import { FIGURES_DIR, REPORT_FILE } from "./results.js";

/** Writes figures/ and report.html into the run directory; returns the figure names drawn. */
export async function regenerateReport(dir: string): Promise<{ figures: string[] }> {
  const { runs, figures, notes } = await buildFigureInputs([dir], {
    resamples: 2000,
    seed: 0,
    scaling: false,
  });
  const rendered = await renderFigures(figures);
  await writeFigures(rendered, join(dir, FIGURES_DIR));
  const html = reportHtml({
    runs,
    analysis: analyzeRuns(runs),
    comparison: compareRuns(runs),
    figures: rendered,
    notes,
    generatedAt: new Date().toISOString(),
  });
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, REPORT_FILE), html);
  return { figures: rendered.filter((f) => f.svg !== null).map((f) => f.name) };
}

const FIGURE_NAME = /^[A-Za-z0-9_-]+\.(svg|png)$/;

/** A report or figure file of a run directory, or null when the name is not one of them. */
export async function runFile(
  dir: string,
  name: string,
): Promise<{ body: Buffer; type: string } | null> {
  let path: string;
  if (name === REPORT_FILE) path = join(dir, REPORT_FILE);
  else if (
    name.startsWith(`${FIGURES_DIR}/`) &&
    FIGURE_NAME.test(name.slice(FIGURES_DIR.length + 1))
  )
    path = join(dir, name);
  else return null;
  if (!existsSync(path)) return null;
  const type = path.endsWith(".html")
    ? "text/html; charset=utf-8"
    : path.endsWith(".svg")
      ? "image/svg+xml"
      : "image/png";
  return { body: await readFile(path), type };
}
