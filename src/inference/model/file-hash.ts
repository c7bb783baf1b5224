/**
 * A content hash of a model's ONNX file (and its external data) to key derived graphs by.
 * Hashing 2.4 GB takes seconds, so each file's sha256 is kept in a sidecar `<file>.sha256`
 * together with the size and mtime it was taken at; a later load with the same size and mtime
 * reads it back at once. Where the model folder is read-only the sidecar goes to the cache.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";

interface Sidecar {
  sha256: string;
  size: number;
  mtimeMs: number;
}

export interface FileHashOptions {
  /** Where sidecars go when the file's own folder is not writable. */
  fallbackDir: string;
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest("hex");
}

function sidecarPaths(path: string, { fallbackDir }: FileHashOptions): [string, string] {
  const key = createHash("sha256").update(resolve(path)).digest("hex").slice(0, 32);
  return [`${path}.sha256`, join(fallbackDir, "file-hashes", `${key}.json`)];
}

async function readSidecar(path: string, size: number, mtimeMs: number): Promise<string | null> {
  try {
    const sidecar = JSON.parse(await readFile(path, "utf8")) as Partial<Sidecar>;
    const fresh = sidecar.size === size && sidecar.mtimeMs === mtimeMs;
    return fresh && typeof sidecar.sha256 === "string" && /^[0-9a-f]{64}$/.test(sidecar.sha256)
      ? sidecar.sha256
      : null;
  } catch {
    return null;
  }
}

/** Records a hash already known (e.g. computed while downloading) so no one reads the file for it. */
export async function rememberFileHash(
  path: string,
  sha256: string,
  options: FileHashOptions,
): Promise<void> {
  const { size, mtimeMs } = await stat(path);
  const text = `${JSON.stringify({ sha256, size, mtimeMs } satisfies Sidecar)}\n`;
  const [beside, fallback] = sidecarPaths(path, options);
  try {
    await writeFile(beside, text);
  } catch {
    try {
      await mkdir(join(options.fallbackDir, "file-hashes"), { recursive: true });
      await writeFile(fallback, text);
    } catch {
      // No place to remember it: the next load hashes the file again, which is only slower.
    }
  }
}

/** sha256 of a file, from its sidecar when that is fresh, else computed and remembered. */
export async function fileSha256(path: string, options: FileHashOptions): Promise<string> {
  const { size, mtimeMs } = await stat(path);
  for (const sidecar of sidecarPaths(path, options)) {
    const known = await readSidecar(sidecar, size, mtimeMs);
    if (known) return known;
  }
  const sha256 = await sha256OfFile(path);
  await rememberFileHash(path, sha256, options);
  return sha256;
}

/**
 * The model's hash: the ONNX file's sha256 when it holds its weights (then it equals the hub's
 * LFS oid), else the sha256 of a sha256sum-style listing of the graph and its data files. The
 * graph alone would not do: two exports with equal graphs and different weights would collide.
 */
export async function modelFileHash(
  onnxPath: string,
  externalDataPaths: readonly string[],
  options: FileHashOptions,
): Promise<string> {
  const graph = await fileSha256(onnxPath, options);
  if (externalDataPaths.length === 0) return graph;
  const listing = [`${graph}  ${basename(onnxPath)}\n`];
  for (const path of externalDataPaths) {
    listing.push(`${await fileSha256(path, options)}  ${basename(path)}\n`);
  }
  return createHash("sha256").update(listing.join("")).digest("hex");
}
