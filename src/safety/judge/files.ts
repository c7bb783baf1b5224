/**
 * Finds a classifier's files: a local folder as it is, or a hub id pinned to a commit and served
 * from the project's hub cache (downloading what it lacks), as `resolveModel` does for decoders.
 *
 * Layouts: transformers.js (config and tokenizer at the top, onnx/model.onnx), Optimum (all in
 * one folder, model.onnx beside config.json) and a repository carrying an Optimum export in onnx/
 * next to its PyTorch files (protectai/distilroberta-base-rejection-v1): the configs beside the
 * ONNX file win when all three are there, else the top folder's. model.onnx is preferred, the
 * quantized model_quantized.onnx taken when it is the only one.
 */
import { readdir, stat } from "node:fs/promises";
import { join, posix } from "node:path";
import { InputError } from "../../errors.js";
import {
  cacheDirFromEnv,
  HubClient,
  type HubClientOptions,
  type ProgressCallback,
  type RevisionInfo,
} from "../../hf/index.js";
import {
  externalDataOf,
  folderOrHubId,
  modelFileHash,
  readJsonObject,
  rememberFileHash,
} from "../../inference/model/index.js";

export interface ClassifierFilesOptions {
  /** Downloads and hash sidecars that cannot sit beside their file. Default: DEEPCONF_CACHE. */
  cacheDir?: string;
  /** Use only the cache (also when HF_HUB_OFFLINE is set). */
  offline?: boolean;
  onProgress?: ProgressCallback;
  /** Hub settings beyond the environment's (endpoint, token, retries); mainly for tests. */
  hub?: Omit<HubClientOptions, "cacheDir" | "offline">;
}

export interface ClassifierFiles {
  /** The folder whose config.json, tokenizer.json and tokenizer_config.json are used. */
  dir: string;
  onnxPath: string;
  externalDataPaths: string[];
  config: Record<string, unknown>;
  source: "local" | "hub";
  repo?: string;
  revision?: string;
  /** The commit the files come from (record it with the verdicts). */
  sha?: string;
  /** Content hash of the ONNX file and its external data. */
  fileHash: string;
  notes: string[];
}

/** In order of preference, as repository paths. */
export const CLASSIFIER_ONNX_FILES = [
  "onnx/model.onnx",
  "model.onnx",
  "onnx/model_quantized.onnx",
  "model_quantized.onnx",
];
const CONFIG_FILES = ["config.json", "tokenizer.json", "tokenizer_config.json"];
const EXAMPLE_ID = "protectai/distilroberta-base-rejection-v1";

interface Layout {
  onnx: string;
  /** "" for the top folder. */
  configDir: string;
  files: string[];
  notes: string[];
}

/** Which listed files make the classifier; explains what is missing. */
export function classifierLayout(listed: Iterable<string>, where: string): Layout {
  const has = new Set(listed);
  const onnx = CLASSIFIER_ONNX_FILES.find((path) => has.has(path));
  if (onnx === undefined) {
    throw new InputError(
      `${where} has no ONNX classifier (looked for ${CLASSIFIER_ONNX_FILES.join(", ")}): export one with \`optimum-cli export onnx --task text-classification\`, or use a repository that has one, such as ${EXAMPLE_ID}`,
    );
  }
  const beside = posix.dirname(onnx) === "." ? "" : posix.dirname(onnx);
  const complete = (dir: string) => CONFIG_FILES.every((file) => has.has(posix.join(dir, file)));
  const configDir = complete(beside) ? beside : "";
  const missing = CONFIG_FILES.filter((file) => !has.has(file));
  if (configDir === "" && missing.length > 0) {
    throw new InputError(
      `${where} has no ${missing.join(" or ")}: a classifier needs ${CONFIG_FILES.join(", ")} beside its ONNX file or at the top; copy them from the model's repository`,
    );
  }
  const notes = onnx.includes("quantized")
    ? [`${where} has no model.onnx: using the quantized ${onnx}`]
    : [];
  return {
    onnx,
    configDir,
    files: [
      ...CONFIG_FILES.map((file) => posix.join(configDir, file)),
      onnx,
      ...externalDataOf(onnx, has),
    ],
    notes,
  };
}

/** Resolves the target of a `classifier:` spec (a folder or a hub id) to files on disk. */
export async function resolveClassifierFiles(
  target: string,
  options: ClassifierFilesOptions = {},
): Promise<ClassifierFiles> {
  return folderOrHubId(target, "classifier", EXAMPLE_ID, {
    local: (path) => resolveLocal(path, options),
    hub: (id, revision) => resolveHub(id, revision, options),
  });
}

async function resolveLocal(
  dir: string,
  options: ClassifierFilesOptions,
): Promise<ClassifierFiles> {
  if (!(await stat(dir)).isDirectory()) {
    throw new InputError(
      `${dir} is a file, not a classifier folder: give the folder holding config.json and the ONNX model`,
    );
  }
  const listed = [...(await listDir(dir, "")), ...(await listDir(dir, "onnx"))];
  const layout = classifierLayout(listed, dir);
  const configDir = join(dir, layout.configDir);
  const fix = "fix the file, or copy it again from the model's repository";
  const config = (await readJsonObject(join(configDir, "config.json"), fix)) ?? {};
  const onnxPath = join(dir, layout.onnx);
  const externalDataPaths = externalDataOf(layout.onnx, listed).map((file) => join(dir, file));
  const fallbackDir = options.cacheDir ?? cacheDirFromEnv(options.hub?.env);
  return {
    dir: configDir,
    onnxPath,
    externalDataPaths,
    config,
    source: "local",
    fileHash: await modelFileHash(onnxPath, externalDataPaths, { fallbackDir }),
    notes: layout.notes,
  };
}

async function resolveHub(
  id: string,
  revision: string | null,
  options: ClassifierFilesOptions,
): Promise<ClassifierFiles> {
  const client = new HubClient({
    ...options.hub,
    cacheDir: options.cacheDir,
    // false does not override HF_HUB_OFFLINE: either one asking for offline is enough.
    offline: options.offline === true ? true : undefined,
  });
  const layoutOf = (info: RevisionInfo) =>
    classifierLayout(
      info.siblings.map((sibling) => sibling.rfilename),
      `classifier ${id} (commit ${info.sha.slice(0, 12)})`,
    );
  const snapshot = await client.snapshot({
    repo: { type: "model", id },
    revision: revision ?? "main",
    pick: (info) => layoutOf(info).files,
    onProgress: options.onProgress,
  });
  const layout = layoutOf(snapshot.info);
  const { dir } = snapshot;
  const fallbackDir = client.cache.root;
  for (const file of snapshot.downloaded)
    await rememberFileHash(file.path, file.sha256, { fallbackDir });

  const configDir = join(dir, layout.configDir);
  const fix = `delete ${dir} and run again to download it afresh`;
  const config = await readJsonObject(join(configDir, "config.json"), fix);
  if (config === null) throw new InputError(`${configDir}/config.json is missing: ${fix}`);
  const onnxPath = join(dir, layout.onnx);
  const externalDataPaths = externalDataOf(layout.onnx, snapshot.files).map((file) =>
    join(dir, file),
  );
  return {
    dir: configDir,
    onnxPath,
    externalDataPaths,
    config,
    source: "hub",
    repo: id,
    revision: snapshot.revision,
    sha: snapshot.sha,
    fileHash: await modelFileHash(onnxPath, externalDataPaths, { fallbackDir }),
    notes: [...snapshot.notes, ...layout.notes],
  };
}

/** Repository-style paths ("onnx/model.onnx") of the files in dir/sub; none when it is missing. */
async function listDir(dir: string, sub: string): Promise<string[]> {
  try {
    return (await readdir(join(dir, sub))).map((name) => posix.join(sub, name));
  } catch {
    return [];
  }
}
