import { homedir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { InputError } from "../../src/errors.js";
import { linkedSha256, parseContentRange } from "../../src/hf/download.js";
import {
  cacheDirFromEnv,
  endpointFromEnv,
  offlineFromEnv,
  parseRepoSpec,
  parseRevisionInfo,
  rateLimitWaitMs,
  tokenFromEnv,
} from "../../src/hf/index.js";
import { resolveUrl, revisionApiUrl } from "../../src/hf/repo.js";

describe("settings from the environment", () => {
  test("endpoint, token, cache and offline follow huggingface_hub's variables", () => {
    expect(endpointFromEnv({})).toBe("https://huggingface.co");
    expect(endpointFromEnv({ HF_ENDPOINT: "https://hf-mirror.com/" })).toBe(
      "https://hf-mirror.com",
    );
    expect(endpointFromEnv({ HF_ENDPOINT: "http://127.0.0.1:8080/hub/" })).toBe(
      "http://127.0.0.1:8080/hub",
    );
    expect(() => endpointFromEnv({ HF_ENDPOINT: "huggingface.co" })).toThrow(InputError);
    expect(() => endpointFromEnv({ HF_ENDPOINT: "ftp://x" })).toThrow(/must be an http\(s\) URL/);

    expect(tokenFromEnv({})).toBeNull();
    expect(tokenFromEnv({ HF_TOKEN: " hf_a " })).toBe("hf_a");
    expect(tokenFromEnv({ HUGGING_FACE_HUB_TOKEN: "hf_b" })).toBe("hf_b");
    expect(tokenFromEnv({ HF_TOKEN: "hf_a", HUGGING_FACE_HUB_TOKEN: "hf_b" })).toBe("hf_a");
    expect(tokenFromEnv({ HF_TOKEN: "" })).toBeNull();

    expect(cacheDirFromEnv({})).toBe(join(homedir(), ".cache", "deepconf-safety"));
    expect(cacheDirFromEnv({ DEEPCONF_CACHE: "/data/cache" })).toBe("/data/cache");

    for (const on of ["1", "true", "YES", "on"])
      expect(offlineFromEnv({ HF_HUB_OFFLINE: on })).toBe(true);
    for (const off of ["", "0", "false", "no"])
      expect(offlineFromEnv({ HF_HUB_OFFLINE: off })).toBe(false);
  });
});

describe("names and URLs", () => {
  test("repo specs", () => {
    expect(parseRepoSpec("onnx-community/Qwen3-0.6B-ONNX")).toEqual({
      id: "onnx-community/Qwen3-0.6B-ONNX",
      revision: null,
    });
    expect(parseRepoSpec("org/name@refs/pr/1")).toEqual({ id: "org/name", revision: "refs/pr/1" });
    expect(parseRepoSpec("gpt2@v1.0")).toEqual({ id: "gpt2", revision: "v1.0" });
    for (const bad of ["a/b/c", "org/", "/x", "org/na me", "org/x@", "org/x@../../etc", "a--b/c"]) {
      expect(() => parseRepoSpec(bad), bad).toThrow(InputError);
    }
  });

  test("revisions and paths are escaped in URLs", () => {
    const repo = { type: "dataset", id: "lmsys/toxic-chat" } as const;
    expect(
      resolveUrl(
        "https://huggingface.co",
        repo,
        "refs/convert/parquet",
        "toxicchat0124/test/0000.parquet",
      ),
    ).toBe(
      "https://huggingface.co/datasets/lmsys/toxic-chat/resolve/refs%2Fconvert%2Fparquet/toxicchat0124/test/0000.parquet",
    );
    expect(revisionApiUrl("https://huggingface.co", { type: "model", id: "o/n" }, "main")).toBe(
      "https://huggingface.co/api/models/o/n/revision/main?blobs=true",
    );
    expect(resolveUrl("https://h", { type: "model", id: "o/n" }, "main", "a b/c#d.json")).toBe(
      "https://h/o/n/resolve/main/a%20b/c%23d.json",
    );
  });

  test("a file list with a path that climbs out of the repository is refused", () => {
    const info = (rfilename: string) => ({
      id: "o/n",
      sha: "a".repeat(40),
      siblings: [{ rfilename }],
    });
    expect(parseRevisionInfo(info("onnx/model.onnx"), "x").siblings).toEqual([
      { rfilename: "onnx/model.onnx" },
    ]);
    for (const bad of ["../evil", "a/../../b", "/etc/passwd", "a\\b", "a//b"]) {
      expect(() => parseRevisionInfo(info(bad), "x"), bad).toThrow(/unsafe path/);
    }
    expect(() => parseRevisionInfo({ id: "o/n", sha: "main", siblings: [] }, "x")).toThrow(
      /sha: not a 40-character commit sha/,
    );
  });
});

describe("headers", () => {
  test("rate-limit waits: Retry-After, then RateLimit's t, then RateLimit-Reset", () => {
    const h = (init: Record<string, string>) => new Headers(init);
    expect(rateLimitWaitMs(h({ "Retry-After": "7" }))).toBe(7000);
    expect(
      rateLimitWaitMs(h({ "Retry-After": "Wed, 01 Jan 2025 00:00:10 GMT" }), Date.UTC(2025, 0, 1)),
    ).toBe(10_000);
    expect(rateLimitWaitMs(h({ RateLimit: '"api";r=0;t=55' }))).toBe(55_000);
    // Several policies: the exhausted one decides.
    expect(rateLimitWaitMs(h({ RateLimit: '"api";r=20;t=200, "resolvers";r=0;t=30' }))).toBe(
      30_000,
    );
    expect(rateLimitWaitMs(h({ "Retry-After": "3", RateLimit: '"api";r=0;t=55' }))).toBe(3000);
    expect(rateLimitWaitMs(h({ "RateLimit-Reset": "12" }))).toBe(12_000);
    expect(rateLimitWaitMs(h({}))).toBeNull();
  });

  test("Content-Range and the LFS sha256 in X-Linked-Etag", () => {
    expect(parseContentRange("bytes 100-199/1000")).toEqual({ start: 100, total: 1000 });
    expect(parseContentRange("bytes 0-0/*")).toEqual({ start: 0, total: null });
    expect(parseContentRange("bytes */1000")).toBeNull();
    const sha = "ab".repeat(32);
    expect(linkedSha256(new Headers({ "X-Linked-Etag": `"${sha}"`, ETag: '"x"' }))).toBe(sha);
    expect(linkedSha256(new Headers({ ETag: `W/"${sha}"` }))).toBe(sha);
    expect(linkedSha256(new Headers({ ETag: `"${"c".repeat(40)}"` }))).toBeNull(); // a git blob id
  });
});
