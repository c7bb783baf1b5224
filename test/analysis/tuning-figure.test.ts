/**
 * The tuning-frontier figure and its report section, from a tuning.json that the real tune()
 * computed over a small hand-made pool: eight instances of six recorded traces, where the
 * low-confidence traces carry the wrong answer (so DeepConf's filter has something to save).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { buildFigureInputs, renderFigures, type VlSpec } from "../../src/analysis/figures/index.js";
import type { LabelledPoolInstance } from "../../src/replay/run-pool.js";
import { TUNING, type TuningDocument, tune } from "../../src/replay/tune.js";
import { deepconf } from "../support/cli.js";
import { testTempDir } from "../support/tiny-model.js";

function pool(): LabelledPoolInstance[] {
  return Array.from({ length: 8 }, (_, i) => {
    const shouldRefuse = i % 2 === 0;
    const right = shouldRefuse ? "refusal" : "compliance";
    const wrong = shouldRefuse ? "compliance" : "refusal";
    return {
      instanceId: `q${i}`,
      shouldRefuse,
      traces: Array.from({ length: 6 }, (_, t) => {
        // Traces 0, 2, 5 confident and right; the others unsure and wrong on odd instances.
        const confident = t % 2 === 0 || t === 5;
        const level = confident ? 8 + (t % 3) : 1 + ((i + t) % 3);
        return {
          traceId: `q${i}-t${t}`,
          answer: confident || i % 4 !== 1 ? right : wrong,
          confidences: Float64Array.from({ length: 24 + 4 * t }, (_, k) => level + (k % 2) * 0.5),
        };
      }),
    };
  });
}

function tuning(): TuningDocument {
  const result = tune(pool(), {
    grid: {
      window: [4],
      eta: [10, 90],
      warmup: [2],
      tau: [0.9, 1],
      minVoters: [1],
      budget: [null, 4],
    },
    topk: 5,
    resamples: 50,
    seed: 1,
  });
  return { sources: ["hand-made"], notes: [], ...result };
}

/** A run directory (manifest + a few predictions), with a tuning.json when given one. */
function writeRun(root: string, name: string, doc?: TuningDocument): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const manifest = {
    run_id: name,
    created_at: "2025-01-02T03:04:05.000Z",
    config: { model: "Qwen3-0.6B", benchmark: "toy", method: "baseline" },
    dataset: { spec: "toy", instances: 4 },
  };
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest));
  const lines = [true, false, true, false].map((should, i) =>
    JSON.stringify({
      instance_id: `${name}-${i}`,
      benchmark: "toy",
      model: "Qwen3-0.6B",
      method: "baseline",
      prompt: `prompt ${i}`,
      should_refuse: should,
      refused: should,
      abstained: false,
      refusal_rate: should ? 1 : 0,
      confidence: 5 + i,
      bucket: null,
      correct: true,
      tokens: { generated: 400, baseline: 400, baseline_kind: "measured" },
      traces: [],
      threshold: 0,
      stop_threshold: null,
      seed: 0,
      elapsed_ms: 50,
    }),
  );
  writeFileSync(join(dir, "predictions.jsonl"), lines.map((l) => `${l}\n`).join(""));
  if (doc !== undefined) writeFileSync(join(dir, TUNING), JSON.stringify(doc, null, 2));
  return dir;
}

const layers = (spec: VlSpec) => spec.layer as VlSpec[];
const markOf = (layer: VlSpec) => (layer.mark as { type: string }).type;
const valuesOf = (layer: VlSpec) =>
  (layer.data as { values: Array<Record<string, unknown>> }).values;

describe("tuning-frontier figure", () => {
  test("one point per setting, the frontier line through exactly the frontier's points, rendered", async () => {
    const doc = tuning();
    expect(doc.settings.length).toBe(8);
    expect(doc.frontier.length).toBeGreaterThan(0);
    const root = testTempDir("tuning-");
    const tuned = writeRun(root, "tuned", doc);
    const plain = writeRun(root, "plain");
    const { figures, tunings, notes } = await buildFigureInputs([tuned, plain], {
      resamples: 20,
      seed: 0,
      scaling: false,
    });
    expect(tunings.map((t) => t.figure)).toEqual(["tuning-frontier"]);
    expect(notes.join("\n")).not.toContain("tuning");
    const figure = figures.find((f) => f.name === "tuning-frontier");
    expect(figure?.spec).toBeTruthy();
    const spec = figure?.spec as VlSpec;
    // The settings' points: the layer coloured by kind (frontier vs other).
    const points = layers(spec).filter(
      (l) => markOf(l) === "point" && valuesOf(l).length === doc.settings.length,
    );
    expect(points).toHaveLength(1);
    expect(valuesOf(points[0] as VlSpec).map((v) => v.index)).toEqual(
      doc.settings.map((_, k) => k),
    );
    const lines = layers(spec).filter((l) => markOf(l) === "line");
    expect(lines).toHaveLength(1);
    const line = valuesOf(lines[0] as VlSpec);
    expect(line.map((v) => v.index)).toEqual(doc.frontier);
    expect(line.map((v) => v.tokens)).toEqual(
      doc.frontier.map((k) => doc.settings[k]?.tokens.value),
    );
    // The baseline's accuracy band and the recommendation's label.
    const band = layers(spec).find((l) => markOf(l) === "rect");
    expect(valuesOf(band as VlSpec)[0]?.low).toBe(doc.baseline.accuracy.low);
    const best = doc.settings[doc.recommended[0] as number];
    expect(best).toBeDefined();
    const label = layers(spec).find((l) => markOf(l) === "text");
    expect(String(valuesOf(label as VlSpec)[0]?.label)).toContain(`window ${best?.params.window}`);

    const [rendered] = await renderFigures([figure as NonNullable<typeof figure>]);
    expect(rendered?.warnings).toEqual([]);
    expect(rendered?.svg).toContain("Tokens generated, all instances");
    expect(rendered?.svg).toContain("Accuracy (95% bootstrap CI)");

    const out = join(root, "figures");
    const run = await deepconf(
      "figures",
      tuned,
      plain,
      "--out",
      out,
      "--resamples",
      "20",
      "--no-scaling",
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("drawn: tuning-frontier");
    expect(existsSync(join(out, "tuning-frontier.svg"))).toBe(true);
    expect(existsSync(join(out, "tuning-frontier.png"))).toBe(true);
  });

  test("no tuning.json, no figure and no note; several tuned runs are named by run id", async () => {
    const root = testTempDir("tuning-");
    const plain = writeRun(root, "plain");
    const untuned = await buildFigureInputs([plain], { resamples: 20, seed: 0, scaling: false });
    expect(untuned.tunings).toEqual([]);
    expect(untuned.figures.some((f) => f.name.startsWith("tuning-frontier"))).toBe(false);
    expect(untuned.notes.join("\n")).not.toContain("tuning");
    const out = join(root, "figures");
    const run = await deepconf("figures", plain, "--out", out, "--resamples", "20", "--no-scaling");
    expect(run.code).toBe(0);
    expect(readdirSync(out).some((f) => f.startsWith("tuning-frontier"))).toBe(false);

    const doc = tuning();
    const both = await buildFigureInputs([writeRun(root, "one", doc), writeRun(root, "two", doc)], {
      resamples: 20,
      seed: 0,
      scaling: false,
    });
    expect(both.tunings.map((t) => t.figure)).toEqual([
      "tuning-frontier-one",
      "tuning-frontier-two",
    ]);
  });

  test("an unreadable tuning.json is a note, not an error", async () => {
    const root = testTempDir("tuning-");
    const dir = writeRun(root, "broken");
    writeFileSync(join(dir, TUNING), "{ not json");
    const inputs = await buildFigureInputs([dir], { resamples: 20, seed: 0, scaling: false });
    expect(inputs.tunings).toEqual([]);
    expect(inputs.notes.join("\n")).toContain("no tuning-frontier figure");
  });
});

describe("tuning in the report", () => {
  test("the figure, the frontier table, the recommendation and the caveat", async () => {
    const doc = tuning();
    const root = testTempDir("tuning-");
    const dir = writeRun(root, "tuned", doc);
    const out = join(root, "report.html");
    const run = await deepconf("report", dir, "--out", out, "--resamples", "20", "--no-scaling");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const html = readFileSync(out, "utf8");
    expect(html).toContain('<figure id="tuning-frontier">');
    const section = html.slice(html.indexOf('<div class="tuning"'));
    expect(section).toContain("<th>accuracy [95% CI]</th><th>savings [95% CI]</th>");
    const rows = section.slice(0, section.indexOf("</table>")).match(/<tr><td>/g) ?? [];
    expect(rows).toHaveLength(doc.frontier.length);
    const best = doc.settings[doc.recommended[0] as number];
    expect(section).toContain(
      `<strong>Recommended: window ${best?.params.window}, eta ${best?.params.eta}, warmup`,
    );
    expect(section).toContain("Caveat: Replay draws the online traces");
  });
});
