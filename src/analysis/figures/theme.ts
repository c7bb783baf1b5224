/**
 * One look for every figure: fonts readable when a 500 px wide chart is printed one column wide
 * (about 3.3 in), the Okabe-Ito colour-blind-safe palette, white background, PNGs at 2x.
 */

/** DejaVu Sans is what headless rendering finds on Linux; the rest are fallbacks for viewers. */
export const FONT = "DejaVu Sans, Helvetica, Arial, sans-serif";

/** Okabe & Ito (2008), distinguishable with the common colour-vision deficiencies. */
export const PALETTE = [
  "#0072B2", // blue
  "#E69F00", // orange
  "#009E73", // bluish green
  "#D55E00", // vermillion
  "#56B4E9", // sky blue
  "#CC79A7", // reddish purple
  "#F0E442", // yellow
  "#000000",
] as const;

export const COLOR = {
  blue: "#0072B2",
  orange: "#E69F00",
  green: "#009E73",
  vermillion: "#D55E00",
  sky: "#56B4E9",
  purple: "#CC79A7",
  grey: "#6E6E6E",
  lightGrey: "#BDBDBD",
} as const;

/** PNG pixels per SVG unit. */
export const PNG_SCALE = 2;

/** Single-panel chart size (SVG units; the PNG is PNG_SCALE times larger). */
export const WIDTH = 460;
export const HEIGHT = 280;

/** The Vega-Lite `config` every figure is compiled with. */
export const THEME_CONFIG = {
  background: "white",
  padding: 12,
  font: FONT,
  view: { stroke: null, continuousWidth: WIDTH, continuousHeight: HEIGHT },
  title: {
    font: FONT,
    fontSize: 17,
    fontWeight: "bold",
    anchor: "start",
    subtitleFontSize: 13,
    subtitleColor: "#444444",
    offset: 10,
  },
  axis: {
    labelFont: FONT,
    titleFont: FONT,
    labelFontSize: 13,
    titleFontSize: 14,
    titleFontWeight: "normal",
    titlePadding: 8,
    labelColor: "#222222",
    titleColor: "#222222",
    gridColor: "#E6E6E6",
    domainColor: "#555555",
    tickColor: "#555555",
    labelLimit: 0,
  },
  header: {
    labelFont: FONT,
    labelFontWeight: "bold",
    titleFont: FONT,
    labelFontSize: 14,
    titleFontSize: 14,
    // Vega estimates text widths without a canvas (generously): no limit, no cut labels.
    labelLimit: 0,
  },
  legend: {
    labelFont: FONT,
    titleFont: FONT,
    labelFontSize: 13,
    titleFontSize: 14,
    titleFontWeight: "normal",
    labelLimit: 0,
    symbolSize: 140,
  },
  text: { font: FONT, fontSize: 12 },
  range: { category: [...PALETTE] },
  bar: { discreteBandSize: { band: 0.8 } },
  point: { size: 70, filled: true },
  concat: { spacing: 36 },
  facet: { spacing: 24 },
} as const;

/** One panel per value of `field`, side by side, headed by the value alone. */
export function columnFacet(field: string) {
  return { column: { field, type: "nominal", title: null } };
}

/** A 0-1 quantity on a percent axis running the full 0-100%. */
export function shareEncoding(field: string, title: string) {
  return { field, type: "quantitative", scale: { domain: [0, 1] }, axis: { format: "%" }, title };
}
