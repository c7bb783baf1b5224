/**
 * Turns what the user typed after --model into files on disk: a local folder is checked and used
 * as it is; a hub id ("org/name" or "org/name@revision") is pinned to a commit and served from
 * the cache, downloading what the cache lacks. Either way the result names the ONNX file for the
 * dtype, its external data, the parsed configs and a content hash to key derived graphs by.
 */
import { existsSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join, relative, sep } from "node:path";
import { InputError } from "../../errors.js";
import {
  cacheDirFromEnv,
  HubClient,
  type HubClientOptions,
  type ProgressCallback,
  parseRepoSpec,
  RepoNotFoundError,
  type RepoRef,
  type RevisionInfo,
} from "../../hf/index.js";
import {
  DTYPES,
  type Dtype,
  describeDtypes,
  dtypesAmong,
  externalDataOf,
  isDtype,
  ONNX_DIR,
  onnxPathOf,
} from "./dtypes.js";
import { modelFileHash, rememberFileHash } from "./file-hash.js";

export interface ResolveModelOptions {
  dtype: Dtype;
  /** Downloads and hash sidecars that cannot sit beside their file. Default: DEEPCONF_CACHE. */
  cacheDir?: string;
  /** Use only the cache (also when HF_HUB_OFFLINE is set). */
  offline?: boolean;
  /** Download progress; bytesTotal is NaN when unknown. */
  onProgress?: ProgressCallback;
  /** Hub settings beyond the environment's (endpoint, token, retries); mainly for tests. */
  hub?: Omit<HubClientOptions, "cacheDir" | "offline">;
}

export interface ResolvedModel {
  /** The folder holding config.json, the tokenizer files and onnx/. */
  dir: string;
  onnxPath: string;
  externalDataPaths: string[];
  config: Record<string, unknown>;
  /** generation_config.json, else the generation fields of config.json. */
  generationConfig: Record<string, unknown>;
  /** Which of the two generationConfig came from. */
  generationConfigFile: "generation_config.json" | "config.json";
  source: "local" | "hub";
  repo?: string;
  revision?: string;
  /** The commit the files come from (record it in run manifests). */
  sha?: string;
  /** Content hash of the ONNX file and its external data, for caching derived graphs. */
  fileHash: string;
  /** Things worth telling the user (e.g. the hub was down and the cache was used). */
  notes: string[];
}

const TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json"];

/** Fields transformers copies from config.json when generation_config.json is absent. */
const GENERATION_FIELDS = [
  "bos_token_id",
  "eos_token_id",
  "pad_token_id",
  "decoder_start_token_id",
  "max_length",
  "do_sample",
  "temperature",
  "top_k",
  "top_p",
  "repetition_penalty",
];

const EXAMPLE_ID = "onnx-community/Qwen3-0.6B-ONNX";

export async function resolveModel(
  spec: string,
  options: ResolveModelOptions,
): Promise<ResolvedModel> {
  if (!isDtype(options.dtype)) {
    throw new InputError(`unknown dtype "${options.dtype}": choose one of ${DTYPES.join(", ")}`);
  }
  return folderOrHubId(spec, "model", EXAMPLE_ID, {
    local: (path) => resolveLocal(path, options),
    hub: (id, revision) => resolveHub({ type: "model", id }, revision, options),
  });
}

/**
 * What the user typed after --model or classifier:, as a folder (when it exists) or a hub id
 * (org/name[@revision]); a path-like name that does not exist is a missing folder, and a hub id
 * the hub does not know says that no such folder exists either.
 */
export async function folderOrHubId<T>(
  spec: string,
  what: string,
  example: string,
  resolvers: {
    local: (path: string) => Promise<T>;
    hub: (id: string, revision: string | null) => Promise<T>;
  },
): Promise<T> {
  const path = spec === "~" || spec.startsWith("~/") ? homedir() + spec.slice(1) : spec;
  if (existsSync(path)) return resolvers.local(path);
  if (looksLikePath(spec)) {
    throw new InputError(
      `${what} folder ${spec} does not exist: give an existing folder, or a hub id such as ${example}`,
    );
  }
  let parsed: { id: string; revision: string | null };
  try {
    parsed = parseRepoSpec(spec);
  } catch {
    throw new InputError(
      `"${spec}" is neither a ${what} folder nor a Hugging Face model id (org/name, optionally @revision, e.g. ${example})`,
    );
  }
  try {
    return await resolvers.hub(parsed.id, parsed.revision);
  } catch (error) {
    // "qwen3/model" may have been meant as a folder: say that none exists either.
    if (error instanceof RepoNotFoundError)
      error.message += ` (No local folder "${spec}" exists either.)`;
    throw error;
  }
}

/** Paths nobody would mistake for a hub id; a missing one is a missing folder. */
function looksLikePath(spec: string): boolean {
  const id = spec.split("@")[0] ?? spec;
  return (
    /^(\/|\.\.?(\/|$)|~)/.test(spec) ||
    spec.includes("\\") ||
    id.endsWith("/") ||
    (id.match(/\//g)?.length ?? 0) > 1
  );
}

async function resolveLocal(dir: string, options: ResolveModelOptions): Promise<ResolvedModel> {
  if (!(await stat(dir)).isDirectory()) {
    throw new InputError(
      `${dir} is a file, not a model folder: give the folder holding config.json and onnx/`,
    );
  }
  const fix = "fix the file, or copy it again from the model's repository";
  const config = await readJsonObject(join(dir, "config.json"), fix);
  if (config === null) {
    throw new InputError(
      `${dir} has no config.json: give the model's top folder (the one holding config.json, tokenizer.json and onnx/)`,
    );
  }
  for (const file of TOKENIZER_FILES) {
    if (!existsSync(join(dir, file))) {
      throw new InputError(
        `${dir} has no ${file}: copy ${TOKENIZER_FILES.join(" and ")} from the model's repository next to config.json`,
      );
    }
  }
  const generation = await readJsonObject(join(dir, "generation_config.json"), fix);

  const onnxFiles = await listOnnxDir(dir);
  const wanted = onnxPathOf(options.dtype);
  if (!onnxFiles.includes(wanted)) {
    throw new InputError(missingDtypeMessage(dir, options.dtype, dtypesAmong(onnxFiles)));
  }
  const onnxPath = join(dir, wanted);
  const externalDataPaths = externalDataOf(wanted, onnxFiles).map((file) => join(dir, file));
  const fileHash = await modelFileHash(onnxPath, externalDataPaths, {
    fallbackDir: cacheDirOf(options),
  });
  return {
    dir,
    onnxPath,
    externalDataPaths,
    config,
    generationConfig: generation ?? generationFromConfig(config),
    generationConfigFile: generation === null ? "config.json" : "generation_config.json",
    source: "local",
    fileHash,
    notes: [],
  };
}

async function resolveHub(
  repo: RepoRef,
  revision: string | null,
  options: ResolveModelOptions,
): Promise<ResolvedModel> {
  const client = new HubClient({
    ...options.hub,
    cacheDir: options.cacheDir,
    // false does not override HF_HUB_OFFLINE: either one asking for offline is enough.
    offline: options.offline === true ? true : undefined,
  });
  const snapshot = await client.snapshot({
    repo,
    revision: revision ?? "main",
    pick: (info) => pickModelFiles(repo, info, options.dtype),
    onProgress: options.onProgress,
  });
  const { dir } = snapshot;
  const fallbackDir = client.cache.root;
  for (const file of snapshot.downloaded)
    await rememberFileHash(file.path, file.sha256, { fallbackDir });

  const fix = `delete ${dir} and run again to download it afresh`;
  const config = await readJsonObject(join(dir, "config.json"), fix);
  if (config === null) throw new InputError(`${dir}/config.json is missing: ${fix}`);
  const generation = snapshot.files.includes("generation_config.json")
    ? await readJsonObject(join(dir, "generation_config.json"), fix)
    : null;
  const wanted = onnxPathOf(options.dtype);
  const onnxPath = join(dir, wanted);
  const externalDataPaths = externalDataOf(wanted, snapshot.files).map((file) => join(dir, file));
  return {
    dir,
    onnxPath,
    externalDataPaths,
    config,
    generationConfig: generation ?? generationFromConfig(config),
    generationConfigFile: generation === null ? "config.json" : "generation_config.json",
    source: "hub",
    repo: repo.id,
    revision: snapshot.revision,
    sha: snapshot.sha,
    fileHash: await modelFileHash(onnxPath, externalDataPaths, { fallbackDir }),
    notes: snapshot.notes,
  };
}

/** The files a model needs from a revision's list; explains what is missing. */
export function pickModelFiles(repo: RepoRef, info: RevisionInfo, dtype: Dtype): string[] {
  const listed = info.siblings.map((sibling) => sibling.rfilename);
  const has = new Set(listed);
  const where = `model ${repo.id} (commit ${info.sha.slice(0, 12)})`;
  for (const file of ["config.json", ...TOKENIZER_FILES]) {
    if (!has.has(file)) {
      throw new InputError(
        `${where} has no ${file}: it is not a transformers-style model repository; ONNX exports such as ${EXAMPLE_ID} are`,
      );
    }
  }
  const wanted = onnxPathOf(dtype);
  if (!has.has(wanted))
    throw new InputError(missingDtypeMessage(where, dtype, dtypesAmong(listed)));
  return [
    "config.json",
    ...(has.has("generation_config.json") ? ["generation_config.json"] : []),
    ...TOKENIZER_FILES,
    wanted,
    ...externalDataOf(wanted, listed),
  ];
}

function missingDtypeMessage(where: string, dtype: Dtype, present: Dtype[]): string {
  const wanted = onnxPathOf(dtype);
  const first = present[0];
  if (first === undefined) {
    return `${where} has no ONNX model under ${ONNX_DIR}/ (looked for ${DTYPES.map(onnxPathOf).join(", ")}): it needs an ONNX export such as ${EXAMPLE_ID}`;
  }
  return `${where} has no ${wanted} for --dtype ${dtype}; it has ${describeDtypes(present)}: pass --dtype ${first}`;
}

/** Repository-style paths ("onnx/model.onnx") of the files in dir/onnx. */
async function listOnnxDir(dir: string): Promise<string[]> {
  try {
    const onnxDir = join(dir, ONNX_DIR);
    return (await readdir(onnxDir)).map((name) =>
      relative(dir, join(onnxDir, name)).split(sep).join("/"),
    );
  } catch {
    return [];
  }
}

/** A JSON object from a file; null when the file does not exist. */
export async function readJsonObject(
  path: string,
  fix: string,
): Promise<Record<string, unknown> | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new InputError(`cannot read ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${path} is not valid JSON (${(error as Error).message}): ${fix}`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new InputError(`${path} should hold a JSON object: ${fix}`);
  }
  return json as Record<string, unknown>;
}

function generationFromConfig(config: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    GENERATION_FIELDS.filter((key) => key in config).map((key) => [key, config[key]]),
  );
}

function cacheDirOf(options: ResolveModelOptions): string {
  return options.cacheDir ?? cacheDirFromEnv(options.hub?.env);
}
