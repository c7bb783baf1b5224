/**
 * Augmented graphs live in the cache, keyed by the source file's hash, the top-k and the
 * surgery version, so a model is rewritten once and later loads open the cached file directly.
 * External weight files are linked, never copied: ONNX Runtime resolves them relative to the
 * graph file, and a 2.4 GB copy per k would be absurd.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { link, mkdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import onnxProto from "onnx-proto";
import {
  AUGMENT_VERSION,
  augmentDecoder,
  externalDataFiles,
  type KvReadReport,
  kvReadReport,
} from "./augment.js";

// onnx-proto is CommonJS: its namespace comes through the default export.
const { onnx } = onnxProto;

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export interface AugmentedGraphOptions {
  topk: number;
  cacheDir: string;
  /** Hash of the source file when already known (saves reading it again). */
  sourceHash?: string;
}

const REPORT_FILE = "kv-read.json";

/** What the surgery could do for the cached graph at `graphPath` (null when not recorded). */
export async function augmentedGraphReport(graphPath: string): Promise<KvReadReport | null> {
  try {
    return JSON.parse(await readFile(join(dirname(graphPath), REPORT_FILE), "utf8"));
  } catch {
    // Missing or unreadable: only a note and the memory estimate depend on it.
    return null;
  }
}

/** Path of the augmented graph for `onnxPath`, building and caching it on first use. */
export async function augmentedGraph(
  onnxPath: string,
  options: AugmentedGraphOptions,
): Promise<string> {
  const hash = options.sourceHash ?? (await sha256File(onnxPath));
  const dir = join(
    options.cacheDir,
    "graphs",
    `${hash.slice(0, 24)}-top${options.topk}-v${AUGMENT_VERSION}`,
  );
  const target = join(dir, "model.onnx");
  if (existsSync(target)) return target;

  const model = onnx.ModelProto.decode(await readFile(onnxPath));
  augmentDecoder(model, options.topk);
  // Unique per call: two model threads of one process (two workers, a run beside a worker) may
  // derive the same graph at once, and a shared staging folder is renamed away under the other.
  const staging = `${dir}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  await mkdir(staging, { recursive: true });
  try {
    for (const file of externalDataFiles(model)) {
      const source = resolve(dirname(onnxPath), file);
      const linked = join(staging, file);
      await mkdir(dirname(linked), { recursive: true });
      // A hard link survives the source folder being moved; across file systems fall back to a symlink.
      await link(source, linked).catch(() => symlink(source, linked));
    }
    await writeFile(join(staging, "model.onnx"), onnx.ModelProto.encode(model).finish());
    await writeFile(join(staging, REPORT_FILE), `${JSON.stringify(kvReadReport(model))}\n`);
    await rename(staging, dir).catch(async (error) => {
      // Another process finished the same graph first: theirs is as good as ours.
      if (!existsSync(target)) throw error;
      await rm(staging, { recursive: true, force: true });
    });
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  return target;
}
