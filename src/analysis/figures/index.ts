/** Builds figures, renders them and writes PNG + SVG pairs. */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "../../errors.js";
import { renderSpec } from "./render.js";
import type { Figure } from "./types.js";

export * from "./inputs.js";
export * from "./render.js";
export * from "./runs.js";
export * from "./scaling.js";
export * from "./summary.js";
export * from "./theme.js";
export * from "./tuning.js";
export type * from "./types.js";

export interface RenderedFigure extends Figure {
  svg: string | null;
  png: Buffer | null;
  /** Vega-Lite / Vega warnings while compiling: a figure bug if not empty. */
  warnings: string[];
}

export async function renderFigures(figures: readonly Figure[]): Promise<RenderedFigure[]> {
  const out: RenderedFigure[] = [];
  for (const figure of figures) {
    if (figure.spec === null) {
      out.push({ ...figure, svg: null, png: null, warnings: [] });
      continue;
    }
    const { svg, png, warnings } = await renderSpec(figure.spec);
    out.push({ ...figure, svg, png, warnings });
  }
  return out;
}

/** Writes NAME.svg and NAME.png for every drawn figure; returns the paths written. */
export async function writeFigures(
  figures: readonly RenderedFigure[],
  dir: string,
): Promise<string[]> {
  const written: string[] = [];
  try {
    await mkdir(dir, { recursive: true });
    for (const f of figures) {
      if (f.svg === null || f.png === null) continue;
      const svgPath = join(dir, `${f.name}.svg`);
      const pngPath = join(dir, `${f.name}.png`);
      await writeFile(svgPath, f.svg);
      await writeFile(pngPath, f.png);
      written.push(pngPath, svgPath);
    }
  } catch (error) {
    throw new InputError(`cannot write figures into ${dir}: ${(error as Error).message}`);
  }
  return written;
}
