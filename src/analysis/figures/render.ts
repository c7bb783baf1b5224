/**
 * Vega-Lite spec -> Vega -> SVG (headless: no browser, no canvas, no network) -> PNG (sharp,
 * librsvg). Text widths are estimated by Vega without a canvas, generously, so labels do not
 * overlap; the fonts come from fontconfig when the PNG is rasterised.
 */
import sharp from "sharp";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { PNG_SCALE, THEME_CONFIG } from "./theme.js";

/** A Vega-Lite specification, kept loose so figure builders can assemble it from data. */
export type VlSpec = Record<string, unknown>;

export interface Rendered {
  svg: string;
  png: Buffer;
  /** What Vega-Lite or Vega warned about while compiling (empty when all is well). */
  warnings: string[];
}

function collector(warnings: string[]) {
  const sink = (...args: readonly unknown[]) => {
    warnings.push(args.map(String).join(" "));
  };
  let level = 0;
  const logger = {
    level(value?: number) {
      if (value === undefined) return level;
      level = value;
      return logger;
    },
    error: sink,
    warn: sink,
    info: () => logger,
    debug: () => logger,
  };
  return logger;
}

/** Compiles with the theme (a spec's own config wins) and renders to SVG and PNG. */
export async function renderSpec(spec: VlSpec): Promise<Rendered> {
  const warnings: string[] = [];
  const full = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    ...spec,
    config: { ...THEME_CONFIG, ...((spec.config as object | undefined) ?? {}) },
  } as unknown as TopLevelSpec;
  const logger = collector(warnings);
  const { spec: vgSpec } = compile(full, { logger: logger as never });
  const view = new vega.View(vega.parse(vgSpec), {
    renderer: "none",
    logger: logger as never,
    logLevel: vega.Warn,
  });
  try {
    const svg = await view.toSVG();
    const png = await sharp(Buffer.from(svg), { density: 72 * PNG_SCALE })
      .png()
      .toBuffer();
    return { svg, png, warnings };
  } finally {
    view.finalize();
  }
}
