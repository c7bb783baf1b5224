import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { InputError } from "../../src/errors.js";
import {
  DownloadError,
  EntryNotFoundError,
  GatedRepoError,
  HubAuthError,
  HubClient,
  type HubClientOptions,
  HubServerError,
  HubUnreachableError,
  NotInCacheError,
  RateLimitError,
  RepoNotFoundError,
  type RepoRef,
  type RevisionInfo,
  RevisionNotFoundError,
} from "../../src/hf/index.js";
import { failure } from "../support/failure.js";
import { FakeHub } from "../support/fake-hub.js";
import { freePort } from "../support/ports.js";
import { testTempDir } from "../support/tiny-model.js";

const TOKEN = "hf_AcceptedTokenDoNotLeak1234567890";
const NOT_ACCEPTED = "hf_NotAcceptedTokenDoNotLeak0987654";
const WEIGHTS = randomBytes(300_000);
const CONFIG = JSON.stringify({ model_type: "qwen3" });
const TINY: RepoRef = { type: "model", id: "org/tiny" };
const everything = (info: RevisionInfo) =>
  info.siblings.map((s) => s.rfilename).filter((f) => f !== ".gitattributes");

let hub: FakeHub;
let waits: number[];

beforeEach(async () => {
  waits = [];
  hub = await FakeHub.start({
    users: [
      { token: TOKEN, accepted: ["org/gated", "org/gated-data"], canRead: ["org/secret"] },
      { token: NOT_ACCEPTED },
    ],
    repos: [
      { id: "org/tiny", files: { "config.json": CONFIG, "onnx/model.onnx": WEIGHTS } },
      { id: "org/gated", gated: "manual", files: { "config.json": CONFIG } },
      { id: "org/secret", private: true, files: { "config.json": CONFIG } },
      {
        id: "org/gated-data",
        type: "dataset",
        gated: "auto",
        files: { "test/data.parquet": "PAR1" },
      },
      { id: "org/data", type: "dataset", files: { "data/test.csv": "a,b\n1,2\n" } },
    ],
  });
});

afterEach(async () => {
  await hub.close();
});

function newClient(options: HubClientOptions = {}): HubClient {
  return new HubClient({
    endpoint: hub.url,
    token: null,
    cacheDir: testTempDir("deepconf-hub-"),
    offline: false,
    env: {},
    retry: { baseDelayMs: 1, maxDelayMs: 4 },
    timeoutMs: 5_000,
    sleep: async (ms) => {
      waits.push(ms);
    },
    ...options,
  });
}

describe("downloads and the cache", () => {
  test("downloads into the snapshot layout, then serves from the cache without downloading again", async () => {
    const client = newClient();
    const progress: [string, number, number][] = [];
    const first = await client.snapshot({
      repo: TINY,
      pick: everything,
      onProgress: (file, done, total) => progress.push([file, done, total]),
    });
    const sha = hub.shaOf("org/tiny");
    const repoDir = join(client.cache.root, "hub", "models--org--tiny");
    expect(first.sha).toBe(sha);
    expect(first.dir).toBe(join(repoDir, "snapshots", sha));
    expect(first.online).toBe(true);
    expect(readFileSync(join(first.dir, "onnx/model.onnx")).equals(WEIGHTS)).toBe(true);
    expect(readFileSync(join(first.dir, "config.json"), "utf8")).toBe(CONFIG);
    expect(readFileSync(join(repoDir, "refs", "main"), "utf8")).toBe(sha);
    expect(existsSync(join(first.dir, "onnx/model.onnx.incomplete"))).toBe(false);
    // The LFS file went through the hub's 302 to the CDN, pinned to the commit.
    expect(hub.count({ kind: "resolve", file: "onnx/model.onnx" })).toBe(1);
    expect(hub.count({ kind: "cdn", file: "onnx/model.onnx" })).toBe(1);
    expect(hub.requests.find((r) => r.kind === "resolve")?.revision).toBe(sha);
    expect(progress.at(-1)).toEqual(["onnx/model.onnx", WEIGHTS.length, WEIGHTS.length]);
    expect(first.downloaded.map((d) => d.sha256)).toHaveLength(2);

    const again = await client.snapshot({ repo: TINY, pick: everything });
    expect(again.sha).toBe(sha);
    expect(again.downloaded).toEqual([]);
    expect(hub.count({ kind: "api" })).toBe(2); // only the branch is looked up again
    expect(hub.count({ kind: "resolve" })).toBe(2);
    expect(hub.count({ kind: "cdn" })).toBe(1);

    // Pinned to a commit sha that is cached: not a single request.
    const before = hub.requests.length;
    const pinned = await client.snapshot({ repo: TINY, revision: sha, pick: everything });
    expect(pinned.online).toBe(false);
    expect(hub.requests.length).toBe(before);
  });

  test("a new commit on main is noticed; the old snapshot stays", async () => {
    const client = newClient();
    const old = await client.snapshot({ repo: TINY, pick: everything });
    const newer = hub.commit("org/tiny", { "config.json": "{}", "onnx/model.onnx": WEIGHTS });
    const next = await client.snapshot({ repo: TINY, pick: everything });
    expect(next.sha).toBe(newer);
    expect(next.sha).not.toBe(old.sha);
    expect(existsSync(join(old.dir, "config.json"))).toBe(true);
    expect(readFileSync(join(next.dir, "config.json"), "utf8")).toBe("{}");
  });

  test("a dropped connection resumes with a Range request and the file is byte-identical", async () => {
    hub.dropNext(1, { file: "onnx/model.onnx", afterBytes: 100_000 });
    const client = newClient();
    const snapshot = await client.snapshot({ repo: TINY, pick: everything });
    const cdn = hub.requests.filter((r) => r.kind === "cdn");
    expect(cdn.map((r) => r.range)).toEqual([undefined, "bytes=100000-"]);
    expect(cdn.map((r) => r.status)).toEqual([200, 206]);
    expect(readFileSync(join(snapshot.dir, "onnx/model.onnx")).equals(WEIGHTS)).toBe(true);
  });

  test("a download that keeps breaking keeps its bytes, and the next run resumes them", async () => {
    hub.dropNext(3, { file: "onnx/model.onnx", afterBytes: 120_000 });
    const cacheDir = testTempDir("deepconf-hub-");
    const error = await failure(
      newClient({ cacheDir, retry: { maxRetries: 0 } }).snapshot({ repo: TINY, pick: everything }),
    );
    expect(error).toBeInstanceOf(DownloadError);
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(
      /^downloading onnx\/model\.onnx of model org\/tiny kept failing \(connection broken .*\), 1 tries\); the 120000 bytes received so far are kept in .*model\.onnx\.incomplete: run the same command again to resume\.$/,
    );
    const partial = join(
      cacheDir,
      "hub/models--org--tiny/snapshots",
      hub.shaOf("org/tiny"),
      "onnx/model.onnx.incomplete",
    );
    expect(statSync(partial).size).toBe(120_000);

    // Next run: the two remaining drops cost two resumes, then the rest arrives.
    const snapshot = await newClient({ cacheDir }).snapshot({ repo: TINY, pick: everything });
    const ranges = hub.requests.filter((r) => r.kind === "cdn").map((r) => r.range);
    expect(ranges).toEqual([undefined, "bytes=120000-", "bytes=240000-"]);
    expect(readFileSync(join(snapshot.dir, "onnx/model.onnx")).equals(WEIGHTS)).toBe(true);
    expect(existsSync(partial)).toBe(false);
  });

  test("a 200 to a Range request restarts the file from byte 0", async () => {
    hub.dropNext(1, { file: "onnx/model.onnx", afterBytes: 50_000 });
    hub.ignoreRangeNext(1, "onnx/model.onnx");
    const snapshot = await newClient().snapshot({ repo: TINY, pick: everything });
    const cdn = hub.requests.filter((r) => r.kind === "cdn");
    expect(cdn.map((r) => [r.range, r.status])).toEqual([
      [undefined, 200],
      ["bytes=50000-", 200],
    ]);
    expect(readFileSync(join(snapshot.dir, "onnx/model.onnx")).equals(WEIGHTS)).toBe(true);
  });

  test("datasets use /datasets/ URLs and their own cache folder", async () => {
    const client = newClient();
    const snapshot = await client.snapshot({
      repo: { type: "dataset", id: "org/data" },
      pick: () => ["data/test.csv"],
    });
    expect(snapshot.dir).toContain(join("hub", "datasets--org--data", "snapshots"));
    expect(readFileSync(join(snapshot.dir, "data/test.csv"), "utf8")).toBe("a,b\n1,2\n");
    expect(hub.requests.map((r) => r.path.split("?")[0])).toEqual([
      "/api/datasets/org/data/revision/main",
      `/datasets/org/data/resolve/${snapshot.sha}/data/test.csv`,
    ]);
  });

  test("the token goes to the hub, never to the CDN on another origin", async () => {
    await hub.close();
    hub = await FakeHub.start({
      separateCdn: true,
      users: [{ token: TOKEN }],
      repos: [{ id: "org/tiny", files: { "onnx/model.onnx": WEIGHTS } }],
    });
    expect(hub.cdnUrl).not.toBe(hub.url);
    await newClient({ token: TOKEN }).snapshot({ repo: TINY, pick: () => ["onnx/model.onnx"] });
    const seen = hub.requests.map((r) => [r.kind, r.authorization]);
    expect(seen).toEqual([
      ["api", `Bearer ${TOKEN}`],
      ["resolve", `Bearer ${TOKEN}`],
      ["cdn", null],
    ]);
  });
});

describe("hub errors", () => {
  test("gated, no token: say to set HF_TOKEN and accept the terms", async () => {
    const error = await failure(
      newClient().snapshot({ repo: { type: "model", id: "org/gated" }, pick: everything }),
    );
    expect(error).toBeInstanceOf(GatedRepoError);
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ status: 401, errorCode: "GatedRepo" });
    expect(error.message).toBe(
      "model org/gated is gated: downloading it needs a token of an account that accepted its terms. Accept the terms at https://huggingface.co/org/gated, then set HF_TOKEN (a read token from https://huggingface.co/settings/tokens).",
    );
  });

  test("gated, token without accepted terms: send the user to the terms page", async () => {
    const error = await failure(
      newClient({ token: NOT_ACCEPTED }).snapshot({
        repo: { type: "model", id: "org/gated" },
        pick: everything,
      }),
    );
    expect(error).toBeInstanceOf(GatedRepoError);
    expect(error).toMatchObject({ status: 403, errorCode: "GatedRepo" });
    expect(error.message).toBe(
      "model org/gated is gated and the account of your HF_TOKEN has not been granted access: accept the terms at https://huggingface.co/org/gated while logged in as that account, then run again (some repositories review requests by hand, which can take a while).",
    );
    hub.acceptTerms(NOT_ACCEPTED, "org/gated");
    const snapshot = await newClient({ token: NOT_ACCEPTED }).snapshot({
      repo: { type: "model", id: "org/gated" },
      pick: everything,
    });
    expect(readFileSync(join(snapshot.dir, "config.json"), "utf8")).toBe(CONFIG);
  });

  test("gated, accepted token: downloads", async () => {
    const snapshot = await newClient({ token: TOKEN }).snapshot({
      repo: { type: "model", id: "org/gated" },
      pick: everything,
    });
    expect(readFileSync(join(snapshot.dir, "config.json"), "utf8")).toBe(CONFIG);
  });

  test("gated dataset: the terms page is under /datasets/", async () => {
    const repo: RepoRef = { type: "dataset", id: "org/gated-data" };
    const error = await failure(
      newClient({ token: NOT_ACCEPTED }).snapshot({ repo, pick: everything }),
    );
    expect(error.message).toContain(
      "accept the terms at https://huggingface.co/datasets/org/gated-data ",
    );
    const snapshot = await newClient({ token: TOKEN }).snapshot({ repo, pick: everything });
    expect(readFileSync(join(snapshot.dir, "test/data.parquet"), "utf8")).toBe("PAR1");
  });

  test("unknown repo: 401 anonymously (not found or private), 404 with a token", async () => {
    const repo: RepoRef = { type: "model", id: "org/nope" };
    const anonymous = await failure(newClient().snapshot({ repo, pick: everything }));
    expect(anonymous).toBeInstanceOf(RepoNotFoundError);
    expect(anonymous).toMatchObject({ status: 401, errorCode: "RepoNotFound" });
    expect(anonymous.message).toBe(
      "model org/nope was not found, or it is private and needs a token (the hub answers 401 for both). Check the name (org/name, as shown on https://huggingface.co); if the repository is private, set HF_TOKEN (a read token from https://huggingface.co/settings/tokens).",
    );
    const signedIn = await failure(
      newClient({ token: TOKEN }).snapshot({ repo, pick: everything }),
    );
    expect(signedIn).toBeInstanceOf(RepoNotFoundError);
    expect(signedIn).toMatchObject({ status: 404, errorCode: "RepoNotFound" });
    expect(signedIn.message).toBe(
      "model org/nope does not exist on the hub, or it is private and your token cannot see it: check the name (org/name, as shown on https://huggingface.co).",
    );
  });

  test("private repo: readable with a token that has access", async () => {
    const repo: RepoRef = { type: "model", id: "org/secret" };
    expect(await failure(newClient().snapshot({ repo, pick: everything }))).toBeInstanceOf(
      RepoNotFoundError,
    );
    const snapshot = await newClient({ token: TOKEN }).snapshot({ repo, pick: everything });
    expect(snapshot.files).toEqual(["config.json"]);
  });

  test("unknown revision and unknown file", async () => {
    const client = newClient();
    const revision = await failure(
      client.snapshot({ repo: TINY, revision: "v9", pick: everything }),
    );
    expect(revision).toBeInstanceOf(RevisionNotFoundError);
    expect(revision.message).toBe(
      'model org/tiny has no revision "v9": give a branch (main), a tag or a full commit sha.',
    );

    const sha = hub.shaOf("org/tiny");
    const file = await failure(client.download(TINY, sha, "onnx/nope.onnx"));
    expect(file).toBeInstanceOf(EntryNotFoundError);
    expect(file).toMatchObject({ status: 404, errorCode: "EntryNotFound" });
    expect(file.message).toBe(`model org/tiny has no file onnx/nope.onnx at revision ${sha}.`);

    const picked = await failure(client.snapshot({ repo: TINY, pick: () => ["nope.json"] }));
    expect(picked).toBeInstanceOf(EntryNotFoundError);
    expect(picked.message).toBe(
      `model org/tiny has no file nope.json at revision main (commit ${sha.slice(0, 12)}).`,
    );
  });

  test("a token the hub does not know", async () => {
    const bad = "hf_RevokedTokenDoNotLeak5555555555";
    const error = await failure(
      newClient({ token: bad }).snapshot({ repo: TINY, pick: everything }),
    );
    expect(error).toBeInstanceOf(HubAuthError);
    expect(error.message).toBe(
      "the hub refused the token in HF_TOKEN for model org/tiny (401: Invalid credentials in Authorization header): it is probably invalid or expired; create a new read token at https://huggingface.co/settings/tokens.",
    );
  });
});

describe("retries", () => {
  test("429 is retried after the Retry-After seconds, then succeeds", async () => {
    hub.rateLimitNext(2, { retryAfter: 0 });
    const snapshot = await newClient().snapshot({ repo: TINY, pick: everything });
    expect(snapshot.files).toHaveLength(2);
    expect(waits).toEqual([0, 0]);
    expect(hub.requests.slice(0, 3).map((r) => r.status)).toEqual([429, 429, 200]);
  });

  test("429 without Retry-After waits the RateLimit header's t seconds", async () => {
    hub.rateLimitNext(1, { retryAfter: null, reset: 1 });
    await newClient().snapshot({ repo: TINY, pick: everything });
    expect(waits).toEqual([1000]);
  });

  test("429 really waits (1 s) with the default sleep", async () => {
    hub.rateLimitNext(1, { retryAfter: 1, kinds: ["api"] });
    const started = Date.now();
    await newClient({ sleep: undefined }).snapshot({ repo: TINY, pick: everything });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  test("429 that persists, or asks for too long a wait, fails clearly", async () => {
    hub.rateLimitNext(3, { retryAfter: 0 });
    const cacheDir = testTempDir("deepconf-hub-");
    const persistent = await failure(
      newClient({ cacheDir, retry: { maxRetries: 2 } }).snapshot({ repo: TINY, pick: everything }),
    );
    expect(persistent).toBeInstanceOf(RateLimitError);
    expect(persistent.message).toBe(
      `the hub is rate-limiting requests (429 after 3 tries) and asks to wait 0 s: run again after that, or set HF_TOKEN: signed-in users get higher limits. The cache (${join(cacheDir, "hub", "models--org--tiny")}) cannot stand in: it has no copy of model org/tiny@main.`,
    );

    hub.rateLimitNext(1, { retryAfter: 600 });
    waits = [];
    const long = await failure(
      newClient({ token: TOKEN }).snapshot({ repo: TINY, pick: everything }),
    );
    expect(long).toBeInstanceOf(RateLimitError);
    expect(long.message).toMatch(
      /^the hub is rate-limiting requests \(429\) and asks to wait 600 s: run again after that\. The cache/,
    );
    expect(waits).toEqual([]);
  });

  test("5xx is retried with growing backoff; if it persists the error says to try later", async () => {
    hub.failNext(2, { status: 502 });
    await newClient().snapshot({ repo: TINY, pick: everything });
    expect(waits).toEqual([1, 2]);

    hub.failNext(10, { status: 500, kinds: ["api"] });
    const cacheDir = testTempDir("deepconf-hub-");
    const error = await failure(
      newClient({ cacheDir, retry: { maxRetries: 1 } }).snapshot({ repo: TINY, pick: everything }),
    );
    expect(error).toBeInstanceOf(HubServerError);
    expect(error).toMatchObject({ status: 500 });
    expect(error.message).toBe(
      `the hub answered 500 Internal Server Error for ${hub.url}/api/models/org/tiny/revision/main?blobs=true after 2 tries: it seems to be having trouble; try again later (https://status.huggingface.co). The cache (${join(cacheDir, "hub", "models--org--tiny")}) cannot stand in: it has no copy of model org/tiny@main.`,
    );
  });
});

describe("offline and unreachable", () => {
  test("offline with a cached snapshot: no request at all", async () => {
    const cacheDir = testTempDir("deepconf-hub-");
    await newClient({ cacheDir }).snapshot({ repo: TINY, pick: everything });
    const before = hub.requests.length;
    for (const client of [
      newClient({ cacheDir, offline: true }),
      newClient({ cacheDir, offline: undefined, env: { HF_HUB_OFFLINE: "1" } }),
    ]) {
      const snapshot = await client.snapshot({ repo: TINY, pick: everything });
      expect(snapshot.online).toBe(false);
      expect(snapshot.sha).toBe(hub.shaOf("org/tiny"));
    }
    expect(hub.requests.length).toBe(before);
  });

  test("offline without the files: say which are missing and how to get them", async () => {
    const cacheDir = testTempDir("deepconf-hub-");
    const nothing = await failure(
      newClient({ cacheDir, offline: true }).snapshot({ repo: TINY, pick: everything }),
    );
    expect(nothing).toBeInstanceOf(NotInCacheError);
    expect(nothing.message).toBe(
      `offline mode is on and the cache (${join(cacheDir, "hub", "models--org--tiny")}) has no copy of model org/tiny@main. Run once with network access to download it, or copy the files to this machine and give the local folder's path instead.`,
    );

    await newClient({ cacheDir }).snapshot({ repo: TINY, pick: () => ["config.json"] });
    const client = newClient({ cacheDir, offline: undefined, env: { HF_HUB_OFFLINE: "true" } });
    const partly = await failure(client.snapshot({ repo: TINY, pick: everything }));
    expect(partly).toBeInstanceOf(NotInCacheError);
    expect(partly.message).toBe(
      `HF_HUB_OFFLINE is set and the cache (${join(cacheDir, "hub", "models--org--tiny")}) lacks onnx/model.onnx of model org/tiny@main (commit ${hub.shaOf("org/tiny").slice(0, 12)}). Run once with network access to download it, or copy the files to this machine and give the local folder's path instead. (Unset HF_HUB_OFFLINE to go online.)`,
    );
  });

  test("an unreachable hub is a clear error, and a cached snapshot stands in", async () => {
    const cacheDir = testTempDir("deepconf-hub-");
    const port = await freePort();
    const down = newClient({ cacheDir, endpoint: `http://127.0.0.1:${port}` });
    const error = await failure(down.snapshot({ repo: TINY, pick: everything }));
    expect(error).toBeInstanceOf(HubUnreachableError);
    expect(error.message).toBe(
      `cannot reach the Hugging Face hub at 127.0.0.1:${port} (connection refused). Check the network connection (and HF_ENDPOINT if it is set), or work offline: HF_HUB_OFFLINE=1 uses the files already in the cache, and local copies can be given by path (a model folder; jsonl:, csv: or parquet: files for benchmarks). The cache (${join(cacheDir, "hub", "models--org--tiny")}) cannot stand in: it has no copy of model org/tiny@main.`,
    );

    await newClient({ cacheDir }).snapshot({ repo: TINY, pick: everything });
    const snapshot = await down.snapshot({ repo: TINY, pick: everything });
    expect(snapshot.sha).toBe(hub.shaOf("org/tiny"));
    expect(snapshot.notes[0]).toMatch(
      /^the hub could not be asked for model org\/tiny@main; using the cached commit [0-9a-f]{12} \(cannot reach/,
    );
  });

  test("a hub that never answers times out into the same error", async () => {
    hub.stallNext(5);
    const error = await failure(
      newClient({ timeoutMs: 100, retry: { maxRetries: 1 } }).snapshot({
        repo: TINY,
        pick: everything,
      }),
    );
    expect(error).toBeInstanceOf(HubUnreachableError);
    expect(error.message).toMatch(
      /^cannot reach the Hugging Face hub at 127\.0\.0\.1:\d+ \(no answer within 0\.1 s after 2 tries\)/,
    );
  });
});

describe("the token stays secret", () => {
  test("no error message, stack or dump holds the token", async () => {
    const secrets = [TOKEN, NOT_ACCEPTED];
    const errors: Error[] = [];
    const gated = { type: "model", id: "org/gated" } as const;
    errors.push(
      await failure(newClient({ token: NOT_ACCEPTED }).snapshot({ repo: gated, pick: everything })),
    );
    errors.push(
      await failure(
        newClient({ token: TOKEN }).snapshot({
          repo: { type: "model", id: "org/nope" },
          pick: everything,
        }),
      ),
    );
    // A server that echoes the token back in its error text.
    hub.failNext(1, { status: 500, body: `bad auth ${TOKEN}` });
    const once = { token: TOKEN, retry: { maxRetries: 0 } };
    errors.push(await failure(newClient(once).snapshot({ repo: TINY, pick: everything })));
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    errors.push(
      await failure(
        newClient({ token: TOKEN, endpoint: nowhere }).snapshot({ repo: TINY, pick: everything }),
      ),
    );
    // A token the hub does not know is itself in the request: still not in the message.
    const revoked = "hf_RevokedTokenDoNotLeak5555555555";
    secrets.push(revoked);
    errors.push(
      await failure(newClient({ token: revoked }).snapshot({ repo: TINY, pick: everything })),
    );

    expect(errors).toHaveLength(5);
    const client = newClient({ token: TOKEN });
    for (const error of errors) {
      expect(error).toBeInstanceOf(InputError);
      const dumps = [
        error.message,
        String(error.stack),
        String(error),
        inspect(error),
        JSON.stringify(error),
      ];
      for (const secret of secrets) for (const dump of dumps) expect(dump).not.toContain(secret);
    }
    expect(inspect(client, { depth: 10 })).not.toContain(TOKEN);
    expect(JSON.stringify(client)).not.toContain(TOKEN);
  });

  test("a token with characters no header may hold is refused without quoting it", () => {
    for (const bad of ["hf_Secret\nPart2", "hf_Secret Part2", "hf_Secr€tPart2"]) {
      const error = (() => {
        try {
          newClient({ token: bad });
        } catch (caught) {
          return caught as Error;
        }
        throw new Error("expected a failure");
      })();
      expect(error).toBeInstanceOf(HubAuthError);
      expect(error.message).toBe(
        "the Hugging Face token (HF_TOKEN) holds characters no token has (a space, a line break or a non-ASCII character): copy it again from https://huggingface.co/settings/tokens",
      );
      expect(inspect(error)).not.toContain("Secr");
    }
  });

  test("a server message quoting the token is redacted", async () => {
    hub.failNext(1, {
      status: 400,
      body: JSON.stringify({ error: `token ${TOKEN} is malformed` }),
    });
    const error = await failure(
      newClient({ token: TOKEN }).snapshot({ repo: TINY, pick: everything }),
    );
    expect(error.message).toBe(
      `the hub answered 400 Bad Request for ${hub.url}/api/models/org/tiny/revision/main?blobs=true (the hub says: token hf_*** is malformed).`,
    );
  });
});
