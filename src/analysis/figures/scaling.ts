/**
 * Figures of the scaling analysis (analyzeScaling's result): baseline vs scale per benchmark with
 * OLS trend lines, saturation (Spearman rho) bars, the gain heatmap (technique x benchmark), the
 * slope-vs-gain quadrant plot and the coverage matrix (which technique x benchmark x model
 * points exist).
 */
import { SATURATION_RHO, type ScalingResult } from "../scaling/analyze.js";
import { distinct, fixed } from "./format.js";
import { COLOR, columnFacet, HEIGHT, WIDTH } from "./theme.js";
import type { Figure } from "./types.js";

/** Technique names, with the source hash added where one name comes from two sources. */
function techniqueLabels(result: ScalingResult): Map<string, string> {
  const ids = distinct(result.rows.map((r) => JSON.stringify([r.technique_id, r.technique])));
  const pairs = ids.map((s) => JSON.parse(s) as [string, string]);
  const labels = new Map<string, string>();
  for (const [id, name] of pairs) {
    const twins = pairs.filter(([, other]) => other === name).length;
    labels.set(id, twins > 1 ? `${name} [${id.slice(name.length + 1)}]` : name);
  }
  return labels;
}

export function baselineScaling(result: ScalingResult): Figure {
  const name = "scaling-baseline";
  const title = "Baseline performance vs model scale";
  const notes: string[] = [];
  const base = result.rows.filter((r) => r.baseline);
  if (base.length === 0) return { name, title, spec: null, notes: ["no Baseline rows"] };
  const fits = new Map(result.benchmarks.map((b) => [b.benchmark, b]));
  const legend = (benchmark: string) => {
    const fit = fits.get(benchmark);
    if (fit === undefined) return `${benchmark} (1 point)`;
    return `${benchmark} (rho ${fixed(fit.spearman)}, ${fit.category})`;
  };
  for (const b of result.single_points.benchmarks)
    notes.push(`${b}: a single baseline point, no trend`);
  const flipped = new Set(result.inverted.map((i) => i.benchmark));
  const values = base.map((r) => ({
    benchmark: legend(r.benchmark),
    scale_b: r.scale_b,
    performance: r.normalised,
    model: r.model,
    trend: (fits.get(r.benchmark)?.slope ?? null) !== null,
  }));
  const color = { field: "benchmark", type: "nominal", title: "Benchmark" };
  const x = {
    field: "scale_b",
    type: "quantitative",
    title: "Model scale (billions of parameters)",
  };
  return {
    name,
    title,
    notes,
    spec: {
      title: {
        text: title,
        subtitle: `Lines: OLS fit; saturated when Spearman rho > ${SATURATION_RHO}${flipped.size > 0 ? `; flipped so higher is safer: ${[...flipped].join(", ")}` : ""}`,
      },
      data: { values },
      width: WIDTH,
      height: HEIGHT,
      layer: [
        {
          transform: [
            { filter: "datum.trend" },
            { regression: "performance", on: "scale_b", groupby: ["benchmark"] },
          ],
          mark: { type: "line", strokeWidth: 2 },
          encoding: { x, y: { field: "performance", type: "quantitative" }, color },
        },
        {
          mark: { type: "point", size: 80, filled: true },
          encoding: {
            x,
            y: {
              field: "performance",
              type: "quantitative",
              title: "Performance (higher is safer)",
              scale: { zero: false },
            },
            color,
            shape: { field: "benchmark", type: "nominal", title: "Benchmark" },
          },
        },
      ],
    },
  };
}

export function saturation(result: ScalingResult): Figure {
  const name = "scaling-saturation";
  const title = "Does the baseline improve with scale? (saturation)";
  const notes: string[] = [];
  if (result.benchmarks.length === 0) {
    return { name, title, spec: null, notes: ["no benchmark has 2 or more baseline points"] };
  }
  const values = result.benchmarks.map((b) => ({
    benchmark: b.benchmark,
    rho: b.spearman,
    category: b.category,
    label: b.spearman === null ? "rho n/a" : `n=${b.n}`,
  }));
  for (const b of result.benchmarks) {
    if (b.spearman === null)
      notes.push(`${b.benchmark}: Spearman rho cannot be computed (constant values)`);
  }
  return {
    name,
    title,
    notes,
    spec: {
      title: {
        text: title,
        subtitle: `Spearman rho of baseline performance vs scale; dashed: ${SATURATION_RHO}`,
      },
      data: { values },
      width: { step: 56 },
      height: HEIGHT,
      layer: [
        {
          mark: "bar",
          encoding: {
            x: {
              field: "benchmark",
              type: "nominal",
              title: "Benchmark",
              axis: { labelAngle: -30 },
            },
            y: {
              field: "rho",
              type: "quantitative",
              title: "Spearman rho",
              scale: { domain: [-1, 1] },
            },
            color: {
              field: "category",
              type: "nominal",
              title: null,
              scale: {
                domain: ["saturated", "not saturated"],
                range: [COLOR.vermillion, COLOR.blue],
              },
              legend: { orient: "top" },
            },
          },
        },
        {
          mark: { type: "text", dy: -8, fontSize: 11, color: "#333333" },
          encoding: {
            x: { field: "benchmark", type: "nominal" },
            y: { datum: -1 },
            text: { field: "label" },
          },
        },
        {
          data: { values: [{ y: SATURATION_RHO }] },
          mark: { type: "rule", strokeDash: [5, 4], color: "#222222" },
          encoding: { y: { field: "y", type: "quantitative" } },
        },
      ],
    },
  };
}

export function gainHeatmap(result: ScalingResult): Figure {
  const name = "scaling-gain-heatmap";
  const title = "Mean gain over the baseline";
  if (result.points.length === 0) {
    return {
      name,
      title,
      spec: null,
      notes: ["no technique has a baseline at the same model, scale and benchmark"],
    };
  }
  const labels = techniqueLabels(result);
  const cells = new Map<string, { technique: string; benchmark: string; sum: number; n: number }>();
  for (const p of result.points) {
    const key = JSON.stringify([p.technique_id, p.benchmark]);
    const cell = cells.get(key) ?? {
      technique: labels.get(p.technique_id) ?? p.technique,
      benchmark: p.benchmark,
      sum: 0,
      n: 0,
    };
    cell.sum += p.gain;
    cell.n += 1;
    cells.set(key, cell);
  }
  const values = [...cells.values()].map((c) => ({
    technique: c.technique,
    benchmark: c.benchmark,
    gain: c.sum / c.n,
    label: `${c.sum / c.n >= 0 ? "+" : ""}${(c.sum / c.n).toFixed(1)}${c.n === 1 ? "*" : ""}`,
  }));
  const max = Math.max(1e-9, ...values.map((v) => Math.abs(v.gain)));
  const single = values.some((v) => v.label.endsWith("*"));
  return {
    name,
    title,
    notes: single ? ["cells marked * rest on a single point"] : [],
    spec: {
      title: {
        text: title,
        subtitle: `Technique x benchmark, normalised performance points${single ? "; * = a single model" : ""}; blank = no data`,
      },
      data: { values },
      width: { step: 70 },
      height: { step: 36 },
      layer: [
        {
          mark: { type: "rect", stroke: "white", strokeWidth: 1 },
          encoding: {
            x: {
              field: "benchmark",
              type: "nominal",
              title: "Benchmark",
              axis: { labelAngle: -30 },
            },
            y: { field: "technique", type: "nominal", title: "Technique" },
            color: {
              field: "gain",
              type: "quantitative",
              title: "Mean gain",
              scale: { scheme: "blueorange", domain: [-max, max], reverse: true },
            },
          },
        },
        {
          mark: { type: "text", fontSize: 12 },
          encoding: {
            x: { field: "benchmark", type: "nominal" },
            y: { field: "technique", type: "nominal" },
            text: { field: "label" },
            color: {
              condition: { test: `abs(datum.gain) > ${0.6 * max}`, value: "white" },
              value: "#111111",
            },
          },
        },
      ],
    },
  };
}

export function quadrantPlot(result: ScalingResult): Figure {
  const name = "scaling-quadrants";
  const title = "Gain vs gain scaling per technique";
  const notes: string[] = [];
  const labels = techniqueLabels(result);
  const values = result.techniques.flatMap((t) => {
    if (t.mean_slope === null || t.mean_gain === null) {
      notes.push(`${labels.get(t.technique_id) ?? t.technique}: slope or gain cannot be computed`);
      return [];
    }
    return [
      {
        technique: labels.get(t.technique_id) ?? t.technique,
        slope: t.mean_slope,
        gain: t.mean_gain,
        quadrant: t.quadrant,
      },
    ];
  });
  if (values.length === 0) {
    return {
      name,
      title,
      spec: null,
      notes: [...notes, "no technique has gains at 2 or more scales"],
    };
  }
  const x = {
    field: "slope",
    type: "quantitative",
    title: "Mean slope of gain (per billion parameters)",
  };
  const y = { field: "gain", type: "quantitative", title: "Mean gain" };
  return {
    name,
    title,
    notes,
    spec: {
      title: { text: title, subtitle: "Right: gain grows with scale; top: positive gain" },
      width: WIDTH,
      height: HEIGHT,
      layer: [
        {
          data: { values: [{ zero: 0 }] },
          mark: { type: "rule", color: COLOR.grey, strokeDash: [4, 3] },
          encoding: { x: { field: "zero", type: "quantitative" } },
        },
        {
          data: { values: [{ zero: 0 }] },
          mark: { type: "rule", color: COLOR.grey, strokeDash: [4, 3] },
          encoding: { y: { field: "zero", type: "quantitative" } },
        },
        {
          data: { values },
          mark: { type: "point", size: 110, filled: true },
          encoding: {
            x,
            y,
            color: {
              field: "quadrant",
              type: "nominal",
              title: "Quadrant",
              scale: {
                domain: [
                  "high gain, scales well",
                  "high gain, stable or shrinking",
                  "low gain, scales well",
                  "low gain, shrinking",
                ],
                range: [COLOR.green, COLOR.blue, COLOR.orange, COLOR.vermillion],
              },
              legend: { orient: "bottom", columns: 2 },
            },
          },
        },
        {
          data: { values },
          mark: { type: "text", dx: 9, align: "left", fontSize: 12 },
          encoding: { x, y, text: { field: "technique" } },
        },
      ],
    },
  };
}

export function coverageMatrix(result: ScalingResult): Figure {
  const name = "scaling-coverage";
  const title = "Coverage: which points exist";
  if (result.rows.length === 0) return { name, title, spec: null, notes: ["no rows"] };
  const labels = techniqueLabels(result);
  const models = distinct(
    [...result.rows].sort((a, b) => a.scale_b - b.scale_b).map((r) => `${r.model} (${r.scale})`),
  );
  const techniques = distinct(result.rows.map((r) => labels.get(r.technique_id) ?? r.technique));
  const values = result.rows.map((r) => ({
    model: `${r.model} (${r.scale})`,
    technique: labels.get(r.technique_id) ?? r.technique,
    benchmark: r.benchmark,
    kind: r.baseline ? "baseline" : "technique",
  }));
  return {
    name,
    title,
    notes: [],
    spec: {
      title: {
        text: title,
        subtitle: "A square = a result for technique x model at that benchmark; blank = missing",
      },
      data: { values },
      facet: columnFacet("benchmark"),
      spec: {
        width: { step: 26 },
        height: { step: 26 },
        mark: { type: "square", size: 300, filled: true },
        encoding: {
          x: {
            field: "model",
            type: "nominal",
            sort: models,
            scale: { domain: models },
            title: "Model (scale)",
            axis: { labelAngle: -45 },
          },
          y: {
            field: "technique",
            type: "nominal",
            sort: techniques,
            scale: { domain: techniques },
            title: "Technique",
          },
          color: {
            field: "kind",
            type: "nominal",
            title: null,
            scale: { domain: ["baseline", "technique"], range: [COLOR.grey, COLOR.blue] },
            legend: { orient: "top" },
          },
        },
      },
    },
  };
}

export function scalingFigures(result: ScalingResult): Figure[] {
  return [
    baselineScaling(result),
    saturation(result),
    gainHeatmap(result),
    quadrantPlot(result),
    coverageMatrix(result),
  ];
}
