/**
 * One file from the hub into the cache, resumably: bytes go to `{dest}.incomplete`, a broken
 * connection resumes with a Range request, and only a file of the announced size (and, for LFS
 * files, the announced sha256) is renamed into place. A file under its final name is whole.
 */
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { InputError } from "../errors.js";
import { DownloadError, type RequestContext } from "./errors.js";
import { type HubHttp, type HubResponse, networkProblem } from "./http.js";
import { repoLabel } from "./repo.js";

/** Called as bytes arrive; bytesTotal is NaN when neither the file list nor the server said. */
export type ProgressCallback = (file: string, bytesDone: number, bytesTotal: number) => void;

export interface DownloadOptions {
  /** The size the file list announced (siblings with ?blobs=true). */
  expectedSize?: number;
  /** The sha256 the file list announced for an LFS file. */
  expectedSha256?: string;
  onProgress?: ProgressCallback;
}

export interface DownloadedFile {
  path: string;
  size: number;
  /** sha256 of the content, computed while it streamed in. */
  sha256: string;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function hashPrefix(path: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) {
    hash.update(chunk as Buffer);
  }
}

/** "bytes 100-199/1000" -> start and total (null total for "*"). */
export function parseContentRange(
  value: string | null,
): { start: number; total: number | null } | null {
  const match = value ? /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(value.trim()) : null;
  if (!match) return null;
  return { start: Number(match[1]), total: match[2] === "*" ? null : Number(match[2]) };
}

/** The LFS sha256 from the hub's X-Linked-Etag (or ETag); null for a git blob id or none. */
export function linkedSha256(headers: Headers): string | null {
  const etag = headers.get("x-linked-etag") ?? headers.get("etag");
  const value = etag?.replace(/^W\//, "").replaceAll('"', "").trim().toLowerCase();
  return value && /^[0-9a-f]{64}$/.test(value) ? value : null;
}

function numberHeader(headers: Headers, name: string): number | null {
  const value = headers.get(name);
  return value !== null && /^\d+$/.test(value.trim()) ? Number(value) : null;
}

/** Total size of the file behind an answer: Content-Range, Content-Length, X-Linked-Size. */
function totalOf(response: HubResponse): number | null {
  if (response.status === 206)
    return parseContentRange(response.headers.get("content-range"))?.total ?? null;
  return (
    numberHeader(response.headers, "content-length") ??
    numberHeader(response.hubHeaders, "x-linked-size")
  );
}

export async function downloadFile(
  http: HubHttp,
  url: string,
  dest: string,
  context: RequestContext,
  options: DownloadOptions = {},
): Promise<DownloadedFile> {
  const { expectedSize, onProgress } = options;
  const file = context.file ?? dest;
  const partial = `${dest}.incomplete`;
  await mkdir(dirname(dest), { recursive: true });

  // The hash runs alongside the bytes on disk: `hashed` is how many of them it has seen, so a
  // resume after a broken connection carries on without reading the file again.
  let hash = createHash("sha256");
  let hashed = 0;
  let failures = 0;
  const retryOrFail = async (reason: string, received: number) => {
    if (failures >= http.retry.maxRetries) {
      throw new DownloadError(
        `downloading ${file} of ${repoLabel(context.repo)} kept failing (${http.redact(reason)}, ${failures + 1} tries); the ${received} bytes received so far are kept in ${partial}: run the same command again to resume.`,
      );
    }
    await http.sleep(http.backoffMs(failures));
    failures++;
  };
  const restart = async () => {
    await rm(partial, { force: true });
    hash = createHash("sha256");
    hashed = 0;
  };

  for (;;) {
    let start = await sizeOf(partial);
    if (expectedSize !== undefined && start > expectedSize) {
      await restart();
      start = 0;
    }
    if (hashed !== start) {
      hash = createHash("sha256");
      if (start > 0) await hashPrefix(partial, hash);
      hashed = start;
    }

    let total = expectedSize ?? Number.NaN;
    let received = start;
    let wanted = options.expectedSha256 ?? null;
    // A previous run may have received every byte and stopped just before the rename.
    if (!(start > 0 && start === expectedSize)) {
      const headers: Record<string, string> = { "accept-encoding": "identity" };
      if (start > 0) headers.range = `bytes=${start}-`;
      const response = await http.get(url, context, { headers, allow: [416] });
      wanted ??= linkedSha256(response.hubHeaders);

      let offset = 0;
      if (response.status === 416) {
        // Our partial file does not fit the file on the server: start over.
        await response.cancel();
        await restart();
        await retryOrFail("the server refused to resume", 0);
        continue;
      }
      if (response.status === 206) {
        const range = parseContentRange(response.headers.get("content-range"));
        if (range?.start !== start) {
          await response.cancel();
          await restart();
          await retryOrFail("the server resumed at the wrong offset", 0);
          continue;
        }
        offset = start;
      } else if (start > 0) {
        // A 200 to a Range request is the whole file from byte 0: start over with it.
        hash = createHash("sha256");
        hashed = 0;
      }
      const announced = totalOf(response);
      if (announced !== null) {
        if (expectedSize !== undefined && announced !== expectedSize) {
          await response.cancel();
          throw new DownloadError(
            `${file} of ${repoLabel(context.repo)}: the hub's file list gives ${expectedSize} bytes but the download has ${announced}; run again, and if it persists the repository is inconsistent.`,
          );
        }
        total = announced;
      }

      received = offset;
      onProgress?.(file, received, total);
      const handle = await open(partial, offset > 0 ? "a" : "w");
      try {
        for await (const chunk of response.chunks()) {
          await handle.write(chunk);
          hash.update(chunk);
          received += chunk.length;
          hashed = received;
          onProgress?.(file, received, total);
        }
      } catch (error) {
        const problem = networkProblem(error, http.timeoutMs);
        if (problem === null) throw diskError(error, partial);
        await retryOrFail(problem.reason, received);
        continue;
      } finally {
        await handle.close();
      }
      if (received < total) {
        await retryOrFail("the connection closed early", received);
        continue;
      }
    }
    if (received > total) {
      await restart();
      throw new DownloadError(
        `${file} of ${repoLabel(context.repo)}: received ${received} bytes, more than the ${total} announced; the partial file was removed: run again.`,
      );
    }
    const sha256 = hash.digest("hex");
    if (wanted !== null && sha256 !== wanted) {
      await restart();
      throw new DownloadError(
        `${file} of ${repoLabel(context.repo)}: the downloaded bytes do not match the checksum the hub announced (sha256 ${wanted}); the file was removed: run again.`,
      );
    }
    await rename(partial, dest);
    return { path: dest, size: received, sha256 };
  }
}

/** A full disk is the user's to fix, not a bug. */
function diskError(error: unknown, path: string): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOSPC" || code === "EDQUOT") {
    return new InputError(
      `no space left on the disk while writing ${path}: free some space, or set DEEPCONF_CACHE to a folder on a bigger disk; run again to resume.`,
    );
  }
  return error;
}
