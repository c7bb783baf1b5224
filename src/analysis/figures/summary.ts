/**
 * The one-page summary: the drawn figures' specs laid out in one Vega-Lite vconcat (two per
 * row), each keeping its own data, scales and title.
 */
import type { VlSpec } from "./render.js";
import type { Figure } from "./types.js";

const PAGE_FIGURES = [
  "confidence-by-outcome",
  "hypothesis-validation",
  "token-savings",
  "metrics-by-model",
  "confidence-by-model",
  "tuning-frontier",
  "scaling-baseline",
  "scaling-gain-heatmap",
  "scaling-quadrants",
];

export function summaryFigure(
  figures: readonly Figure[],
  title = "DeepConf safety: summary",
): Figure {
  const parts = PAGE_FIGURES.flatMap((name) => {
    const f = figures.find((g) => g.name === name);
    return f?.spec ? [f.spec] : [];
  });
  if (parts.length === 0) {
    return { name: "summary", title, spec: null, notes: ["no figure to summarise"] };
  }
  const rows: VlSpec[] = [];
  for (let i = 0; i < parts.length; i += 2) {
    rows.push({ hconcat: parts.slice(i, i + 2), resolve: { scale: { color: "independent" } } });
  }
  return {
    name: "summary",
    title,
    notes: [],
    spec: {
      title: { text: title, fontSize: 22 },
      vconcat: rows,
      resolve: { scale: { color: "independent" } },
      config: { concat: { spacing: 48 } },
    },
  };
}
