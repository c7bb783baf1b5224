/**
 * Writing a built model folder the safe way, for the project's own test models: only an empty
 * folder, or (with overwrite) one this project built (its config.json carries `marker`), may be
 * replaced; the files are written into a partial folder beside it and renamed into place, so a
 * crash never leaves a half-written model where a run would load it.
 */
import { mkdir, readdir, readFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { InputError } from "../../errors.js";

export interface BuiltFolderOptions {
  overwrite: boolean;
  /** The config.json key that marks a folder this project built. */
  marker: string;
  /** What is built, in messages: "test model", "test classifier". */
  what: string;
}

async function ours(dir: string, marker: string): Promise<boolean> {
  try {
    const config = JSON.parse(await readFile(join(dir, "config.json"), "utf8"));
    return config !== null && typeof config === "object" && marker in config;
  } catch {
    return false; // no readable config.json: not ours
  }
}

/** Whether `dir` must be removed before the finished build is renamed onto it. */
async function mustReplace(dir: string, options: BuiltFolderOptions): Promise<boolean> {
  const entries = await readdir(dir).catch(() => null);
  if (entries === null) return false;
  if (entries.length === 0) return true;
  const built = await ours(dir, options.marker);
  if (options.overwrite && built) return true;
  throw new InputError(
    built
      ? `${dir} already holds a ${options.what}; pass overwrite to replace it`
      : `${dir} already exists and is not a ${options.what} built by deepconf; refusing to replace it`,
  );
}

/** Runs `fill` on a fresh partial folder (with onnx/ in it), then puts it at `dir`. */
export async function writeBuiltFolder(
  dir: string,
  options: BuiltFolderOptions,
  fill: (work: string) => Promise<void>,
): Promise<void> {
  const replace = await mustReplace(dir, options);
  const work = join(dirname(dir), `.${basename(dir)}.partial-${process.pid}`);
  await rm(work, { recursive: true, force: true });
  await mkdir(join(work, "onnx"), { recursive: true });
  try {
    await fill(work);
    if (replace) await rm(dir, { recursive: true, force: true });
    await mkdir(dirname(dir), { recursive: true });
    await rename(work, dir);
  } catch (error) {
    await rm(work, { recursive: true, force: true });
    throw error;
  }
}
