import type { VlSpec } from "./render.js";

/** One figure: its file name (without extension), what it shows, and its Vega-Lite spec. */
export interface Figure {
  /** File stem, e.g. "confidence-by-outcome". */
  name: string;
  title: string;
  /** Null when there is nothing to draw (the notes say why). */
  spec: VlSpec | null;
  /** Plain-words notes: what is missing or left out of the figure. */
  notes: string[];
}
