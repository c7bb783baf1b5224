import { createHash, randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { InputError } from "../../src/errors.js";
import { NotInCacheError, RepoNotFoundError } from "../../src/hf/index.js";
import {
  DTYPE_FILES,
  DTYPES,
  externalDataOf,
  type ResolveModelOptions,
  resolveModel,
} from "../../src/inference/model/index.js";
import { failure } from "../support/failure.js";
import { FakeHub } from "../support/fake-hub.js";
import { testTempDir } from "../support/tiny-model.js";

const sha256 = (data: Uint8Array | string) => createHash("sha256").update(data).digest("hex");
const CONFIG = { model_type: "qwen3", eos_token_id: 151645, bos_token_id: 151643, hidden_size: 8 };
const GENERATION = { eos_token_id: [151645, 151643], temperature: 0.6, top_p: 0.95, top_k: 20 };

/** A model folder with the given onnx/ files (fake bytes: resolving never parses them). */
function modelFolder(
  onnx: Record<string, Uint8Array | string>,
  extra: Record<string, string> = {},
) {
  const dir = join(testTempDir("deepconf-model-"), "model");
  const files: Record<string, Uint8Array | string> = {
    "config.json": JSON.stringify(CONFIG),
    "generation_config.json": JSON.stringify(GENERATION),
    "tokenizer.json": "{}",
    "tokenizer_config.json": "{}",
    ...extra,
  };
  for (const [name, content] of Object.entries(onnx)) files[`onnx/${name}`] = content;
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

const local = (dtype: ResolveModelOptions["dtype"] = "fp32"): ResolveModelOptions => ({
  dtype,
  cacheDir: testTempDir("deepconf-cache-"),
});

describe("dtype files", () => {
  test("each dtype has its file under onnx/, and external data is found in order", async () => {
    expect(DTYPE_FILES).toEqual({
      fp32: "model.onnx",
      fp16: "model_fp16.onnx",
      q8: "model_quantized.onnx",
      q4: "model_q4.onnx",
      q4f16: "model_q4f16.onnx",
    });
    const listing = [
      "onnx/model.onnx_data_10",
      "onnx/model.onnx",
      "onnx/model.onnx_data_2",
      "onnx/model.onnx_data",
      "onnx/model.onnx_data_1",
      "onnx/model_q4.onnx_data",
      "onnx/model.onnx_datax",
    ];
    expect(externalDataOf("onnx/model.onnx", listing)).toEqual([
      "onnx/model.onnx_data",
      "onnx/model.onnx_data_1",
      "onnx/model.onnx_data_2",
      "onnx/model.onnx_data_10",
    ]);

    const onnx: Record<string, string> = { "model_q4.onnx_data": "q4 weights" };
    for (const dtype of DTYPES) onnx[DTYPE_FILES[dtype]] = `graph ${dtype}`;
    const dir = modelFolder(onnx);
    for (const dtype of DTYPES) {
      const model = await resolveModel(dir, local(dtype));
      expect(model.onnxPath).toBe(join(dir, "onnx", DTYPE_FILES[dtype]));
      expect(model.externalDataPaths).toEqual(
        dtype === "q4" ? [join(dir, "onnx", "model_q4.onnx_data")] : [],
      );
    }
  });
});

describe("local folders", () => {
  test("a complete folder: paths, configs and the content hash", async () => {
    const graph = randomBytes(1000);
    const data = [randomBytes(5000), randomBytes(3000)];
    const dir = modelFolder({
      "model.onnx": graph,
      "model.onnx_data": data[0] as Buffer,
      "model.onnx_data_1": data[1] as Buffer,
    });
    const model = await resolveModel(dir, local());
    expect(model).toMatchObject({
      dir,
      onnxPath: join(dir, "onnx/model.onnx"),
      externalDataPaths: [join(dir, "onnx/model.onnx_data"), join(dir, "onnx/model.onnx_data_1")],
      config: CONFIG,
      generationConfig: GENERATION,
      generationConfigFile: "generation_config.json",
      source: "local",
      notes: [],
    });
    expect(model.repo).toBeUndefined();
    const listing = `${sha256(graph)}  model.onnx\n${sha256(data[0] as Buffer)}  model.onnx_data\n${sha256(data[1] as Buffer)}  model.onnx_data_1\n`;
    expect(model.fileHash).toBe(sha256(listing));
  });

  test("without generation_config.json the generation fields come from config.json", async () => {
    const dir = modelFolder({ "model.onnx": "g" });
    rmSync(join(dir, "generation_config.json"));
    const model = await resolveModel(dir, local());
    expect(model.generationConfig).toEqual({ eos_token_id: 151645, bos_token_id: 151643 });
    expect(model.generationConfigFile).toBe("config.json");
  });

  test("equal graphs with different weights get different hashes", async () => {
    const a = modelFolder({ "model.onnx": "same graph", "model.onnx_data": "weights A" });
    const b = modelFolder({ "model.onnx": "same graph", "model.onnx_data": "weights B" });
    const [ha, hb] = [await resolveModel(a, local()), await resolveModel(b, local())];
    expect(ha.fileHash).not.toBe(hb.fileHash);
    const alone = modelFolder({ "model.onnx": "same graph" });
    expect((await resolveModel(alone, local())).fileHash).toBe(sha256("same graph"));
  });

  test("the hash is kept in a sidecar keyed by size and mtime", async () => {
    const dir = modelFolder({ "model.onnx": "graph bytes" });
    const options = local();
    const first = await resolveModel(dir, options);
    const sidecar = join(dir, "onnx/model.onnx.sha256");
    const stored = JSON.parse(readFileSync(sidecar, "utf8"));
    expect(stored).toMatchObject({ sha256: first.fileHash, size: 11 });

    // A later load believes the sidecar (proof: a planted value comes back) ...
    const planted = "f".repeat(64);
    writeFileSync(sidecar, JSON.stringify({ ...stored, sha256: planted }));
    expect((await resolveModel(dir, options)).fileHash).toBe(planted);
    // ... until the file's mtime changes: then it hashes again.
    utimesSync(join(dir, "onnx/model.onnx"), new Date(), new Date(Date.now() + 5000));
    expect((await resolveModel(dir, options)).fileHash).toBe(sha256("graph bytes"));
  });

  test("where no sidecar can be written beside the file, it goes to the cache", async () => {
    const dir = modelFolder({ "model.onnx": "graph" });
    mkdirSync(join(dir, "onnx/model.onnx.sha256")); // unwritable as a file, even for root
    const options = local();
    const model = await resolveModel(dir, options);
    const kept = readdirSync(join(options.cacheDir as string, "file-hashes"));
    expect(kept).toHaveLength(1);
    const stored = JSON.parse(
      readFileSync(join(options.cacheDir as string, "file-hashes", kept[0] as string), "utf8"),
    );
    expect(stored.sha256).toBe(model.fileHash);
  });

  test("each broken folder gets a message naming the path and what to do", async () => {
    const base = testTempDir("deepconf-bad-");
    const cases: [string, () => string, string | RegExp][] = [
      [
        "missing folder",
        () => join(base, "nope"),
        `model folder ${join(base, "nope")} does not exist: give an existing folder, or a hub id such as onnx-community/Qwen3-0.6B-ONNX`,
      ],
      [
        "a file, not a folder",
        () => {
          writeFileSync(join(base, "file.onnx"), "x");
          return join(base, "file.onnx");
        },
        `${join(base, "file.onnx")} is a file, not a model folder: give the folder holding config.json and onnx/`,
      ],
      [
        "no config.json",
        () => {
          const dir = modelFolder({ "model.onnx": "g" });
          rmSync(join(dir, "config.json"));
          return dir;
        },
        /^(.*) has no config\.json: give the model's top folder \(the one holding config\.json, tokenizer\.json and onnx\/\)$/,
      ],
      [
        "no tokenizer.json",
        () => {
          const dir = modelFolder({ "model.onnx": "g" });
          rmSync(join(dir, "tokenizer.json"));
          return dir;
        },
        /^(.*) has no tokenizer\.json: copy tokenizer\.json and tokenizer_config\.json from the model's repository next to config\.json$/,
      ],
      [
        "config.json is not JSON",
        () => modelFolder({ "model.onnx": "g" }, { "config.json": "{ model_type: qwen3" }),
        /^(.*)\/config\.json is not valid JSON \(.*\): fix the file, or copy it again from the model's repository$/,
      ],
      [
        "config.json is not an object",
        () => modelFolder({ "model.onnx": "g" }, { "config.json": "[1, 2]" }),
        /^(.*)\/config\.json should hold a JSON object: fix the file, or copy it again from the model's repository$/,
      ],
      [
        "no file for the dtype",
        () => modelFolder({ "model_fp16.onnx": "g", "model_quantized.onnx": "g" }),
        /^(.*) has no onnx\/model\.onnx for --dtype fp32; it has fp16 \(model_fp16\.onnx\), q8 \(model_quantized\.onnx\): pass --dtype fp16$/,
      ],
      [
        "no onnx files at all",
        () => modelFolder({}),
        /^(.*) has no ONNX model under onnx\/ \(looked for onnx\/model\.onnx, onnx\/model_fp16\.onnx, onnx\/model_quantized\.onnx, onnx\/model_q4\.onnx, onnx\/model_q4f16\.onnx\): it needs an ONNX export such as onnx-community\/Qwen3-0\.6B-ONNX$/,
      ],
    ];
    for (const [name, make, expected] of cases) {
      const path = make();
      const error = await failure(resolveModel(path, local()));
      expect(error, name).toBeInstanceOf(InputError);
      if (typeof expected === "string") expect(error.message, name).toBe(expected);
      else {
        expect(error.message, name).toMatch(expected);
        expect(error.message, name).toContain(path);
      }
    }
  });

  test("a spec that is neither a folder nor a hub id, and an unknown dtype", async () => {
    const neither = await failure(resolveModel("not a model!", local()));
    expect(neither.message).toBe(
      '"not a model!" is neither a model folder nor a Hugging Face model id (org/name, optionally @revision, e.g. onnx-community/Qwen3-0.6B-ONNX)',
    );
    const dir = modelFolder({ "model.onnx": "g" });
    const dtype = await failure(resolveModel(dir, { dtype: "int3" as "fp32" }));
    expect(dtype.message).toBe('unknown dtype "int3": choose one of fp32, fp16, q8, q4, q4f16');
  });
});

describe("hub models", () => {
  let hub: FakeHub;
  const weights = {
    q4: randomBytes(40_000),
    q4data: randomBytes(90_000),
    fp32: randomBytes(70_000),
  };

  beforeAll(async () => {
    hub = await FakeHub.start({
      repos: [
        {
          id: "org/qwen-onnx",
          files: {
            "config.json": JSON.stringify(CONFIG),
            "generation_config.json": JSON.stringify(GENERATION),
            "tokenizer.json": "{}",
            "tokenizer_config.json": "{}",
            "README.md": "# model",
            "onnx/model.onnx": weights.fp32,
            "onnx/model_q4.onnx": weights.q4,
            "onnx/model_q4.onnx_data": weights.q4data,
          },
        },
        {
          id: "org/no-tokenizer",
          files: { "config.json": "{}", "onnx/model.onnx": "g" },
        },
      ],
    });
  });

  afterAll(async () => {
    await hub.close();
  });

  const fromHub = (dtype: ResolveModelOptions["dtype"], cacheDir: string, more = {}) => ({
    dtype,
    cacheDir,
    hub: { endpoint: hub.url, token: null, env: {}, retry: { baseDelayMs: 1 } },
    ...more,
  });

  test("downloads only the files of the dtype, then loads from the cache", async () => {
    const cacheDir = testTempDir("deepconf-cache-");
    hub.requests.length = 0;
    const progress: string[] = [];
    const model = await resolveModel(
      "org/qwen-onnx",
      fromHub("q4", cacheDir, { onProgress: (file: string) => progress.push(file) }),
    );
    const sha = hub.shaOf("org/qwen-onnx");
    const dir = join(cacheDir, "hub", "models--org--qwen-onnx", "snapshots", sha);
    expect(model).toMatchObject({
      dir,
      onnxPath: join(dir, "onnx/model_q4.onnx"),
      externalDataPaths: [join(dir, "onnx/model_q4.onnx_data")],
      config: CONFIG,
      generationConfig: GENERATION,
      generationConfigFile: "generation_config.json",
      source: "hub",
      repo: "org/qwen-onnx",
      revision: "main",
      sha,
    });
    const fetched = hub.requests.filter((r) => r.kind === "resolve").map((r) => r.file);
    expect(fetched).toEqual([
      "config.json",
      "generation_config.json",
      "tokenizer.json",
      "tokenizer_config.json",
      "onnx/model_q4.onnx",
      "onnx/model_q4.onnx_data",
    ]);
    expect(new Set(progress)).toEqual(new Set(fetched));
    expect(readFileSync(model.onnxPath).equals(weights.q4)).toBe(true);
    const listing = `${sha256(weights.q4)}  model_q4.onnx\n${sha256(weights.q4data)}  model_q4.onnx_data\n`;
    expect(model.fileHash).toBe(sha256(listing));
    // The hashes computed while downloading were kept: no later load reads 2 GB for them.
    expect(JSON.parse(readFileSync(`${model.onnxPath}.sha256`, "utf8")).sha256).toBe(
      sha256(weights.q4),
    );

    const again = await resolveModel("org/qwen-onnx", fromHub("q4", cacheDir));
    expect(again.fileHash).toBe(model.fileHash);
    expect(hub.count({ kind: "resolve" })).toBe(6);
    expect(hub.count({ kind: "api" })).toBe(2);

    const before = hub.requests.length;
    const pinned = await resolveModel(`org/qwen-onnx@${sha}`, fromHub("q4", cacheDir));
    expect(pinned.sha).toBe(sha);
    expect(hub.requests.length).toBe(before);
  });

  test("offline: cached dtype loads without the network, an uncached one says what is missing", async () => {
    const cacheDir = testTempDir("deepconf-cache-");
    await resolveModel("org/qwen-onnx", fromHub("q4", cacheDir));
    const before = hub.requests.length;
    const offline = await resolveModel("org/qwen-onnx", fromHub("q4", cacheDir, { offline: true }));
    expect(offline.source).toBe("hub");
    expect(hub.requests.length).toBe(before);

    const envOffline = {
      hub: { endpoint: hub.url, token: null, env: { HF_HUB_OFFLINE: "1" } },
      offline: false,
    };
    const error = await failure(
      resolveModel("org/qwen-onnx", { ...fromHub("fp32", cacheDir), ...envOffline }),
    );
    expect(error).toBeInstanceOf(NotInCacheError);
    expect(error.message).toBe(
      `HF_HUB_OFFLINE is set and the cache (${join(cacheDir, "hub", "models--org--qwen-onnx")}) lacks onnx/model.onnx of model org/qwen-onnx@main (commit ${hub.shaOf("org/qwen-onnx").slice(0, 12)}). Run once with network access to download it, or copy the files to this machine and give the local folder's path instead. (Unset HF_HUB_OFFLINE to go online.)`,
    );
    expect(hub.requests.length).toBe(before);

    const empty = testTempDir("deepconf-cache-");
    const none = await failure(
      resolveModel("org/qwen-onnx", fromHub("q4", empty, { offline: true })),
    );
    expect(none.message).toBe(
      `offline mode is on and the cache (${join(empty, "hub", "models--org--qwen-onnx")}) has no copy of model org/qwen-onnx@main. Run once with network access to download it, or copy the files to this machine and give the local folder's path instead.`,
    );
  });

  test("a revision after @ is pinned to its commit", async () => {
    const v1 = hub.shaOf("org/qwen-onnx");
    hub.setBranch("org/qwen-onnx", "v1", v1);
    const cacheDir = testTempDir("deepconf-cache-");
    const model = await resolveModel("org/qwen-onnx@v1", fromHub("q4", cacheDir));
    expect(model).toMatchObject({ revision: "v1", sha: v1 });
    expect(readFileSync(join(cacheDir, "hub/models--org--qwen-onnx/refs/v1"), "utf8")).toBe(v1);
  });

  test("hub repos: missing dtype, missing tokenizer, unknown name", async () => {
    const cacheDir = testTempDir("deepconf-cache-");
    const sha = hub.shaOf("org/qwen-onnx").slice(0, 12);
    const dtype = await failure(resolveModel("org/qwen-onnx", fromHub("fp16", cacheDir)));
    expect(dtype.message).toBe(
      `model org/qwen-onnx (commit ${sha}) has no onnx/model_fp16.onnx for --dtype fp16; it has fp32 (model.onnx), q4 (model_q4.onnx): pass --dtype fp32`,
    );
    const tokenizer = await failure(resolveModel("org/no-tokenizer", fromHub("fp32", cacheDir)));
    expect(tokenizer.message).toMatch(
      /^model org\/no-tokenizer \(commit [0-9a-f]{12}\) has no tokenizer\.json: it is not a transformers-style model repository; ONNX exports such as onnx-community\/Qwen3-0\.6B-ONNX are$/,
    );
    const unknown = await failure(resolveModel("org/nope", fromHub("fp32", cacheDir)));
    expect(unknown).toBeInstanceOf(RepoNotFoundError);
    expect(unknown.message).toBe(
      'model org/nope was not found, or it is private and needs a token (the hub answers 401 for both). Check the name (org/name, as shown on https://huggingface.co); if the repository is private, set HF_TOKEN (a read token from https://huggingface.co/settings/tokens). (No local folder "org/nope" exists either.)',
    );
    expect(
      existsSync(
        join(
          cacheDir,
          "hub",
          "models--org--qwen-onnx",
          "snapshots",
          hub.shaOf("org/qwen-onnx"),
          "onnx",
        ),
      ),
    ).toBe(false);
  });
});
