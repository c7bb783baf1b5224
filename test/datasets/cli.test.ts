import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { FakeHub } from "../support/fake-hub.js";
import { testTempDir } from "../support/tiny-model.js";
import { datasetsCli, type Run } from "./cli-support.js";
import {
  datasetHub,
  hubOptions,
  NOT_ACCEPTED,
  REVOKED,
  SECRETS,
  TOKEN,
  tempFile,
} from "./fixtures.js";

let hub: FakeHub;
let cacheDir: string;
const runs: Run[] = [];

beforeEach(async () => {
  cacheDir = testTempDir("deepconf-data-");
  hub = await datasetHub([
    { token: TOKEN, name: "alice", accepted: ["allenai/wildguardmix"] },
    { token: NOT_ACCEPTED, name: "bob" },
  ]);
});

afterEach(async () => {
  await hub.close();
  // Whatever happened, no token was printed.
  for (const run of runs.splice(0)) {
    for (const secret of SECRETS) {
      expect(run.stdout).not.toContain(secret);
      expect(run.stderr).not.toContain(secret);
    }
  }
});

async function check(token: string | null, ...args: string[]): Promise<Run> {
  const run = await datasetsCli(
    ["check", ...args, "--cache-dir", cacheDir],
    hubOptions(hub, token),
  );
  runs.push(run);
  return run;
}

const WG_PAGE = "https://huggingface.co/datasets/allenai/wildguardmix";
const wgSha = () => hub.shaOf("allenai/wildguardmix", "main", "dataset");

describe("deepconf datasets check", () => {
  test("gated, no token: what to do, exit 2", async () => {
    const run = await check(null, "wildguardmix");
    expect(run.code).toBe(2);
    expect(run.stdout).toBe(
      [
        "deepconf datasets check wildguardmix:wildguardtest:test",
        "",
        "benchmark   wildguardmix (license ODC-BY)",
        "HF_TOKEN    not set (needed: the dataset is gated)",
        `dataset     ${WG_PAGE}: gated: accept the terms on its page; access is granted at once`,
        `revision    main = commit ${wgSha()}`,
        "access      NO: the dataset is gated and no token was sent",
        "files       test/wildguard_test.parquet (1.4 KiB)",
        "rows        unknown (the data could not be read)",
        "",
        `Problem: dataset allenai/wildguardmix is gated: downloading it needs a token of an account that accepted its terms. Accept the terms at ${WG_PAGE}, then set HF_TOKEN (a read token from https://huggingface.co/settings/tokens).`,
        "",
        "What to do:",
        `  1. Accept the terms at ${WG_PAGE} (log in to huggingface.co first; access is granted as soon as you accept).`,
        "  2. Create a read token at https://huggingface.co/settings/tokens for that account and set it: export HF_TOKEN=hf_...",
        "  3. Run `deepconf datasets check wildguardmix:wildguardtest:test` again.",
        "",
      ].join("\n"),
    );
    expect(run.stderr).toBe(
      'deepconf: wildguardmix:wildguardtest:test cannot be read (no-token): see "What to do" above.\n',
    );
  });

  test("gated, token whose account has not accepted the terms", async () => {
    const run = await check(NOT_ACCEPTED, "wildguardmix");
    expect(run.code).toBe(2);
    expect(run.stdout).toContain("HF_TOKEN    set and valid: signed in as bob (read token)\n");
    expect(run.stdout).toContain(
      "access      NO: the token's account has not been granted access (terms not accepted)\n",
    );
    expect(run.stdout).toContain(
      `What to do:\n  1. Accept the terms at ${WG_PAGE} while logged in as bob, the account of your HF_TOKEN (access is granted as soon as you accept).\n  2. Run \`deepconf datasets check wildguardmix:wildguardtest:test\` again.\n`,
    );
  });

  test("a fine-grained token also hears about its gated-repo permission", async () => {
    await hub.close();
    hub = await datasetHub([{ token: NOT_ACCEPTED, name: "bob", role: "fineGrained" }]);
    const run = await check(NOT_ACCEPTED, "wildguardmix");
    expect(run.stdout).toContain("signed in as bob (fineGrained token)");
    expect(run.stdout).toContain(
      '  2. If you already accepted them: your token is fine-grained; give it the permission "Read access to contents of all public gated repos you can access" at https://huggingface.co/settings/tokens, or use a read token.\n',
    );
  });

  test("gated, accepted: revision, file size, rows and label rates", async () => {
    const run = await check(TOKEN, "wildguardmix");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      [
        "deepconf datasets check wildguardmix:wildguardtest:test",
        "",
        "benchmark   wildguardmix (license ODC-BY)",
        "HF_TOKEN    set and valid: signed in as alice (read token)",
        `dataset     ${WG_PAGE}: gated: accept the terms on its page; access is granted at once`,
        `revision    main = commit ${wgSha()}`,
        "access      OK: the files can be read",
        "files       test/wildguard_test.parquet (1.4 KiB)",
        "rows        4: 3 usable, 1 skipped (1 prompt_harm_label is null)",
        'labels      should refuse (prompt_harm_label == "harmful"): 2 of 3 (66.7%)',
        "            adversarial: 1 of 3 (33.3%)",
        '            reference refusals (response_refusal_label == "refusal"): 1 of 3 (33.3%)',
        "",
        "Ready to use.",
        "",
      ].join("\n"),
    );
    // whoami, the revision, then the download.
    expect(hub.requests[0]?.path).toBe("/api/whoami-v2");
  });

  test("--json: the documented document", async () => {
    const run = await check(TOKEN, "wildguardmix", "--json");
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(Object.keys(doc)).toEqual([
      "spec",
      "benchmark",
      "ok",
      "access",
      "problem",
      "offline",
      "token",
      "dataset",
      "license",
      "files",
      "rows",
      "labels",
      "todo",
      "notes",
    ]);
    expect(doc).toMatchObject({
      spec: "wildguardmix:wildguardtest:test",
      ok: true,
      access: "ok",
      token: { set: true, valid: true, user: "alice", role: "read", problem: null },
      dataset: { repo: "allenai/wildguardmix", gated: "auto", revision: "main", sha: wgSha() },
      files: [{ path: "test/wildguard_test.parquet" }],
      rows: {
        total: 4,
        usable: 3,
        skipped: 1,
        skipped_reasons: { "prompt_harm_label is null": 1 },
      },
      todo: [],
    });
    expect(doc.labels[0]).toEqual({
      name: "should refuse",
      rule: 'prompt_harm_label == "harmful"',
      positive: 2,
      total: 3,
      rate: 2 / 3,
    });

    // The cache now holds it: readable without a token, with a note saying so.
    const cached = await check(null, "wildguardmix", "--json");
    expect(cached.code).toBe(0);
    expect(JSON.parse(cached.stdout).notes).toEqual([
      `read from the cache: downloading it afresh (another machine, a new commit) needs HF_TOKEN of an account that accepted the terms at ${WG_PAGE}`,
    ]);

    cacheDir = testTempDir("deepconf-data-");
    const failed = await check(null, "wildguardmix", "--json");
    expect(failed.code).toBe(2);
    expect(JSON.parse(failed.stdout)).toMatchObject({ ok: false, access: "no-token", rows: null });
    expect(failed.stderr).toBe(
      'deepconf: wildguardmix:wildguardtest:test cannot be read (no-token): see "todo" in the JSON above.\n',
    );
  });

  test("an invalid token, on a gated and on a public dataset", async () => {
    const gated = await check(REVOKED, "wildguardmix");
    expect(gated.code).toBe(2);
    expect(gated.stdout).toContain(
      "HF_TOKEN    set, but the hub rejects it (401): invalid or expired\n",
    );
    // The metadata was read anonymously.
    expect(gated.stdout).toContain(`revision    main = commit ${wgSha()}\n`);
    expect(gated.stdout).toContain(
      "  1. HF_TOKEN is invalid or expired: create a new read token at https://huggingface.co/settings/tokens and set HF_TOKEN to it.\n",
    );
    const open = await check(REVOKED, "toxicchat");
    expect(open.code).toBe(2);
    expect(open.stdout).toContain("access      NO: the hub rejects HF_TOKEN\n");
    expect(open.stdout).toContain(
      "set HF_TOKEN to it, or unset HF_TOKEN (this dataset is public).\n",
    );
  });

  test("public dataset without a token; the parquet export's commit", async () => {
    const run = await check(null, "toxicchat:toxicchat0124:train");
    expect(run.code).toBe(0);
    const sha = hub.shaOf("lmsys/toxic-chat", "refs/convert/parquet", "dataset");
    expect(run.stdout).toContain("HF_TOKEN    not set (not needed: the dataset is public)\n");
    expect(run.stdout).toContain(`revision    refs/convert/parquet = commit ${sha}\n`);
    expect(run.stdout).toContain("rows        2: 2 usable\n");
    expect(run.stdout).toContain("labels      should refuse (toxicity == 1): 1 of 2 (50.0%)\n");
    expect(run.stdout).toContain("            adversarial (jailbreaking == 1): 0 of 2 (0.0%)\n");
  });

  test("offline: cached -> OK without a request; not cached -> what to do", async () => {
    const missing = await check(null, "xstest", "--offline");
    expect(missing.code).toBe(2);
    expect(hub.requests).toEqual([]);
    expect(missing.stdout).toContain(
      "dataset     https://huggingface.co/datasets/walledai/XSTest: not asked (offline)\n",
    );
    expect(missing.stdout).toContain("access      NO: offline, and the cache has no copy\n");
    expect(missing.stdout).toContain(
      `  1. Run once with network access (without --offline and HF_HUB_OFFLINE) to download it into the cache (${cacheDir}).\n`,
    );

    expect((await check(null, "xstest")).code).toBe(0);
    const before = hub.requests.length;
    const cached = await check(null, "xstest", "--offline");
    expect(cached.code).toBe(0);
    expect(hub.requests.length).toBe(before);
    expect(cached.stdout).toContain("rows        3: 3 usable\n");
    expect(cached.stdout).toContain("labels      should refuse");
    const signedIn = await check(TOKEN, "xstest", "--offline");
    expect(signedIn.stdout).toContain("HF_TOKEN    set, not checked (offline)\n");
    expect(hub.requests.length).toBe(before);
  });

  test("rate-limited, then OK; rate-limited for long: what to do", async () => {
    hub.rateLimitNext(2, { retryAfter: 0 });
    expect((await check(null, "xstest")).code).toBe(0);
    hub.rateLimitNext(20, { retryAfter: 600 });
    // The copy cached a moment ago stands in, as it would for a run.
    const cached = await check(null, "xstest");
    expect(cached.code).toBe(0);
    expect(cached.stdout).toContain(
      "note        the hub could not be asked for dataset walledai/XSTest@main",
    );
    cacheDir = testTempDir("deepconf-data-");
    const run = await check(null, "xstest");
    expect(run.code).toBe(2);
    expect(run.stdout).toContain("access      NO: the hub is rate-limiting requests\n");
    expect(run.stdout).toContain(
      "  1. Wait as long as the hub asks (see the problem above), then run again; setting HF_TOKEN raises the limits.\n",
    );
  });

  test("the hub unreachable: NO, unless the cache holds a copy", async () => {
    expect((await check(null, "toxicchat")).code).toBe(0);
    await hub.close();
    const run = await check(TOKEN, "xstest");
    expect(run.code).toBe(2);
    expect(run.stdout).toContain("HF_TOKEN    set, not checked (the hub could not be asked)\n");
    expect(run.stdout).toContain("access      NO: the hub cannot be reached\n");
    const cached = await check(TOKEN, "toxicchat");
    expect(cached.code).toBe(0);
    expect(cached.stdout).toContain("rows        6: 4 usable");
    expect(cached.stdout).toMatch(
      /note {8}the hub could not be asked for dataset lmsys\/toxic-chat@refs\/convert\/parquet; using the cached commit [0-9a-f]{12}/,
    );
    hub = await datasetHub();
  });

  test("the sample and local files need no hub", async () => {
    const sample = await check(null, "sample");
    expect(sample.code).toBe(0);
    expect(sample.stdout).toContain("HF_TOKEN    not needed (no download)\n");
    expect(sample.stdout).toContain("rows        48: 48 usable\n");
    expect(sample.stdout).toContain(
      "labels      should refuse (hand-labelled: clearly harmful request): 24 of 48 (50.0%)\n",
    );

    const file = tempFile("mine.csv", "text,harm\na,yes\nb,no\nc,\n");
    const bad = await check(null, `csv:${file}`);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toContain(
      `Problem: ${file} has no column "prompt" for the prompt (its columns: text, harm): name the right one with --prompt-field (fieldMap.promptField).\n`,
    );
    const good = await check(
      null,
      `csv:${file}`,
      "--prompt-field",
      "text",
      "--label-field",
      "harm",
    );
    expect(good.code).toBe(0);
    expect(good.stdout).toContain("benchmark   mine\n");
    expect(good.stdout).toContain("rows        3: 2 usable, 1 skipped (1 missing label)\n");
    expect(good.stdout).toContain(
      "labels      should refuse (harm in {1/true, yes, harmful, unsafe, toxic}",
    );
    const custom = await check(
      null,
      `csv:${file}`,
      "--prompt-field",
      "text",
      "--label-field",
      "harm",
      "--refuse-value",
      "no",
      "--refuse-value",
      "maybe",
    );
    expect(custom.stdout).toContain("should refuse (harm in {no, maybe}): 1 of 2 (50.0%)");
    expect(hub.requests).toEqual([]);
  });

  test("an unknown name lists the known ones", async () => {
    const run = await check(null, "advbench");
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe(
      'deepconf: unknown benchmark "advbench": known benchmarks: sample, toxicchat, wildguardmix, xstest; local files as jsonl:PATH, csv:PATH, parquet:PATH.\n',
    );
  });
});

describe("deepconf datasets list", () => {
  test("names, sources and licenses; --json", async () => {
    const run = await datasetsCli(["list"]);
    expect(run.code).toBe(0);
    for (const text of [
      "sample",
      "https://huggingface.co/datasets/lmsys/toxic-chat",
      "CC-BY-NC-4.0",
      "https://huggingface.co/datasets/allenai/wildguardmix",
      "ODC-BY",
      "gated",
      "https://huggingface.co/datasets/walledai/XSTest",
      "CC-BY-4.0",
      "toxicchat:toxicchat0124:test",
    ]) {
      expect(run.stdout).toContain(text);
    }
    const json = JSON.parse((await datasetsCli(["list", "--json"])).stdout);
    expect(json.benchmarks.map((entry: { name: string }) => entry.name)).toEqual([
      "sample",
      "toxicchat",
      "wildguardmix",
      "xstest",
    ]);
    expect(json.benchmarks[2]).toMatchObject({
      access: "gated",
      default_spec: "wildguardmix:wildguardtest:test",
      configs: { wildguardtest: ["test"], wildguardtrain: ["train"] },
    });
    expect(json.local_formats).toEqual(["jsonl:PATH", "csv:PATH", "parquet:PATH"]);
  });
});
