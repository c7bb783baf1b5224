import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";
import { deepconf, tempFile } from "../support/cli.js";

/** Top log-prob -0.1, the 19 others at `rest`: C = (0.1 + 19 |rest|) / 20, so lower rest = surer. */
const row = (rest: number, k = 20) => [-0.1, ...new Array(k - 1).fill(rest)];
const line = (instance: string, trace: string, answer: string | null, tokens: number, rest = -9) =>
  JSON.stringify({
    instance_id: instance,
    trace_id: trace,
    answer,
    topk_logprobs: Array.from({ length: tokens }, () => row(rest)),
  });

const goodPool = [
  line("q1", "a", "yes", 6),
  line("q1", "b", "no", 5, -5),
  line("q2", "a", "no", 4),
  line("q1", "c", "yes", 6),
  line("q1", "d", "no", 6, -4),
].join("\n");

describe("deepconf replay", () => {
  test("--json prints the documented document", async () => {
    const pool = tempFile("pool.jsonl", `${goodPool}\n`);
    const run = await deepconf(
      "replay",
      pool,
      "--window",
      "2",
      "--warmup",
      "2",
      "--tau",
      "1",
      "--json",
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(Object.keys(doc)).toEqual(["params", "instances", "totals"]);
    expect(doc.params).toEqual({
      window: 2,
      topk: 20,
      tail: 2,
      eta: 10,
      variant: "low",
      warmup: 2,
      budget: null,
      tau: 1,
      min_voters: 2,
    });
    expect(doc.instances.map((i: { instance_id: string }) => i.instance_id)).toEqual(["q1", "q2"]);
    const q1 = doc.instances[0];
    expect(q1.traces.map((t: { trace_id: string }) => t.trace_id)).toEqual(["a", "b", "c", "d"]);
    expect(Object.keys(q1.traces[0])).toEqual([
      "trace_id",
      "tokens",
      "mean",
      "lowest",
      "bottom10",
      "tail",
    ]);
    expect(q1.traces[0].mean).toBeCloseTo(171.1 / 20, 12); // 8.555
    expect(q1.traces[1].lowest).toBeCloseTo(95.1 / 20, 12); // 4.755
    expect(Object.keys(q1.offline)).toEqual([
      "majority",
      "mean_weighted",
      "tail_weighted",
      "bottom10_weighted",
      "lowest_weighted",
      "tail_top",
      "bottom10_top",
      "lowest_top",
    ]);
    for (const key of [
      "threshold",
      "answer",
      "traces_used",
      "tokens_used",
      "tokens_baseline",
      "stopped",
      "consensus",
    ]) {
      expect(q1.online).toHaveProperty(key);
    }
    // Warmup a (lowest 8.555) and b (4.755): s = 90th percentile = 8.175. c (8.555) runs to
    // the end and votes; d (C 3.805) stops after its first full window of 2 tokens; b cannot vote.
    expect(q1.online.threshold).toBeCloseTo(4.755 + 0.9 * 3.8, 12);
    expect(q1.online.stopped).toEqual(["d"]);
    expect(q1.online.voted).toEqual(["a", "c"]);
    expect(q1.online.answer).toBe("yes");
    expect(q1.online.tokens_used).toBe(6 + 5 + 6 + 2);
    expect(q1.online.tokens_baseline).toBe(6 + 5 + 6 + 6);
    expect(doc.totals).toEqual({
      tokens_used: 19 + 4,
      tokens_baseline: 23 + 4,
      savings: 1 - 23 / 27,
    });
  });

  test("without --json prints a table per instance and the totals", async () => {
    const pool = tempFile("pool.jsonl", goodPool);
    const run = await deepconf("replay", pool, "--window", "2", "--warmup", "2");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Instance "q1": 4 traces');
    expect(run.stdout).toContain('Instance "q2": 1 traces');
    expect(run.stdout).toMatch(/Totals over 2 instances: .* savings/);
  });

  test("reads Python's -Infinity / NaN and JavaScript's null as floored log-probs", async () => {
    const python = `{"instance_id": "q", "answer": "x", "topk_logprobs": [[-Infinity, NaN, ${new Array(18).fill(-1).join(", ")}]]}`;
    const js = JSON.stringify({
      instance_id: "q",
      answer: "x",
      topk_logprobs: [[null, null, ...new Array(18).fill(-1)]],
    });
    const run = await deepconf(
      "replay",
      tempFile("p.jsonl", `${python}\n${js}\n`),
      "--window",
      "4",
      "--json",
    );
    expect(run.code).toBe(0);
    const traces = JSON.parse(run.stdout).instances[0].traces;
    expect(traces[0].mean).toBe((2e4 + 18) / 20);
    expect(traces[1].mean).toBe((2e4 + 18) / 20);
    expect(traces.map((t: { trace_id: string }) => t.trace_id)).toEqual(["0", "1"]);
  });

  const malformed: Array<[string, string, RegExp]> = [
    ["invalid JSON", `${line("q", "a", "x", 2)}\n{"instance_id": "q",`, /:2: not valid JSON/],
    [
      "a missing answer",
      JSON.stringify({ instance_id: "q", topk_logprobs: [] }),
      /:1: answer: missing required field/,
    ],
    [
      "a missing instance_id",
      JSON.stringify({ answer: "x", topk_logprobs: [] }),
      /:1: instance_id: missing required field/,
    ],
    [
      "a non-string answer",
      JSON.stringify({ instance_id: "q", answer: 3, topk_logprobs: [] }),
      /:1: answer: expected a string or null, got 3/,
    ],
    [
      "an empty instance_id",
      JSON.stringify({ instance_id: "", answer: "x", topk_logprobs: [] }),
      /:1: instance_id: expected a non-empty string, got ""/,
    ],
    ["a line that is not an object", "[1, 2]", /:1: expected a JSON object, got \[1,2\]/],
    [
      "an empty row",
      JSON.stringify({ instance_id: "q", answer: "x", topk_logprobs: [row(-1), []] }),
      /:1: topk_logprobs\[1\]: empty row/,
    ],
    [
      "a non-numeric value",
      JSON.stringify({
        instance_id: "q",
        answer: "x",
        topk_logprobs: [[-1, -2, "abc", ...new Array(17).fill(-3)]],
      }),
      /:1: topk_logprobs\[0\]\[2\]: expected a number, got "abc"/,
    ],
    [
      "a row that is not an array",
      JSON.stringify({ instance_id: "q", answer: "x", topk_logprobs: [5] }),
      /:1: topk_logprobs\[0\]: expected an array/,
    ],
    [
      "a row shorter than --topk",
      JSON.stringify({ instance_id: "q", answer: "x", topk_logprobs: [[-1, -2]] }),
      /:1: topk_logprobs\[0\]: has 2 log-probs but --topk 20 needs at least 20/,
    ],
    [
      "probabilities instead of log-probs",
      JSON.stringify({ instance_id: "q", answer: "x", topk_logprobs: [new Array(20).fill(0.05)] }),
      /:1: topk_logprobs\[0\]\[0\]: log-prob 0.05 is positive/,
    ],
    [
      "a duplicate trace id",
      `${line("q", "a", "x", 1)}\n\n${line("q", "a", "y", 1)}`,
      /:3: trace_id: "a" of instance "q" already appeared on line 1/,
    ],
  ];

  test.each(malformed)(
    "%s: exit 2, file:line: field named, nothing on stdout",
    async (_, text, message) => {
      const pool = tempFile("bad.jsonl", text);
      const run = await deepconf("replay", pool, "--window", "2", "--json");
      expect(run.code).toBe(2);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(message);
      expect(run.stderr).toContain(pool);
      expect(run.stderr).not.toContain("    at "); // a message, not a stack trace
    },
  );

  test("a missing file or an empty pool is a clear error", async () => {
    const missing = await deepconf("replay", "/nonexistent/pool.jsonl");
    expect(missing).toMatchObject({ code: 2, stdout: "" });
    expect(missing.stderr).toMatch(/cannot read pool \/nonexistent\/pool.jsonl: no such file/);
    const empty = await deepconf("replay", tempFile("empty.jsonl", "\n\n"));
    expect(empty).toMatchObject({ code: 2, stdout: "" });
    expect(empty.stderr).toMatch(/holds no traces/);
  });

  test.each([
    [["--window", "0"], /--window.*whole number >= 1/],
    [["--tau", "1.5"], /--tau.*\[0, 1\]|--tau.*\(0, 1\]/],
    [["--variant", "medium"], /--variant/],
    [["--variant", "low", "--eta", "20"], /either --variant or --eta/],
    [["--eta", "0"], /--eta/],
  ])("bad flags %j: exit 2 with a usage message", async (flags, message) => {
    const run = await deepconf("replay", tempFile("p.jsonl", goodPool), ...(flags as string[]));
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(message);
  });

  test("--eta and --budget are honoured and recorded", async () => {
    const run = await deepconf(
      "replay",
      tempFile("p.jsonl", goodPool),
      "--window",
      "2",
      "--warmup",
      "1",
      "--eta",
      "50",
      "--budget",
      "3",
      "--json",
    );
    const doc = JSON.parse(run.stdout);
    expect(doc.params).toMatchObject({ eta: 50, variant: null, budget: 3, warmup: 1 });
    expect(doc.instances[0].online.budget).toBe(3);
    expect(doc.instances[0].online.tokens_baseline).toBe(6 + 5 + 6);
    expect(doc.instances[1].online.budget).toBe(1); // the pool has one trace for q2
  });

  test("the installed executable runs and exits 2 on bad input", async () => {
    const exec = promisify(execFile);
    const cli = ["--import", "tsx", "src/cli/main.ts"];
    const ok = await exec("node", [
      ...cli,
      "replay",
      "examples/pool.jsonl",
      "--window",
      "16",
      "--json",
    ]);
    expect(JSON.parse(ok.stdout).instances.length).toBeGreaterThan(0);
    const bad = await exec("node", [...cli, "replay", tempFile("b.jsonl", "{")]).catch(
      (error) => error,
    );
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toMatch(/b\.jsonl:1: not valid JSON/);
  });
});
