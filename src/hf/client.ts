/**
 * The hub client: settings from the environment (huggingface_hub's names), the revision API,
 * cached downloads, and `snapshot`, which turns "these files of org/name@main" into a folder on
 * disk, going online only when the cache cannot answer.
 */
import { fetchRevisionInfo, type RevisionInfo } from "./api.js";
import { HubCache } from "./cache.js";
import { type DownloadedFile, downloadFile, type ProgressCallback } from "./download.js";
import {
  EntryNotFoundError,
  type HubError,
  HubServerError,
  HubUnreachableError,
  NotInCacheError,
  RateLimitError,
} from "./errors.js";
import { HubHttp, type RetryPolicy } from "./http.js";
import { checkRevision, isCommitSha, type RepoRef, repoLabel, resolveUrl } from "./repo.js";
import {
  cacheDirFromEnv,
  endpointFromEnv,
  normalizeEndpoint,
  offlineFromEnv,
  tokenFromEnv,
} from "./settings.js";

export interface HubClientOptions {
  /** Default: HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  /** Default: HF_TOKEN, else HUGGING_FACE_HUB_TOKEN; null for anonymous. */
  token?: string | null;
  /** Default: DEEPCONF_CACHE, else ~/.cache/deepconf-safety. */
  cacheDir?: string;
  /** Default: HF_HUB_OFFLINE. Offline, only the cache is used. */
  offline?: boolean;
  retry?: Partial<RetryPolicy>;
  /** No answer or no body bytes for this long counts as a broken connection (default 30 s). */
  timeoutMs?: number;
  /** For tests: how waits (backoff, Retry-After) are spent. */
  sleep?: (ms: number) => Promise<void>;
  /** The environment to read defaults from (default process.env). */
  env?: Record<string, string | undefined>;
}

export interface SnapshotRequest {
  repo: RepoRef;
  /** Branch, tag or commit sha; default "main". */
  revision?: string;
  /** The repository paths wanted, chosen from the revision's file list (may throw to explain). */
  pick: (info: RevisionInfo) => string[];
  onProgress?: ProgressCallback;
}

export interface Snapshot {
  repo: RepoRef;
  revision: string;
  /** The commit everything was taken from. */
  sha: string;
  /** The folder holding the files at their repository paths. */
  dir: string;
  info: RevisionInfo;
  files: string[];
  /** Files this call downloaded, with the sha256 computed on the way in. */
  downloaded: DownloadedFile[];
  /** Whether the hub was asked (false: the cache answered alone). */
  online: boolean;
  /** Things the user may want to know, e.g. that the hub was down and the cache was used. */
  notes: string[];
}

export class HubClient {
  readonly http: HubHttp;
  readonly cache: HubCache;
  readonly offline: boolean;
  readonly #offlineFromEnv: boolean;

  constructor(options: HubClientOptions = {}) {
    const env = options.env ?? process.env;
    const endpoint =
      options.endpoint === undefined ? endpointFromEnv(env) : normalizeEndpoint(options.endpoint);
    this.http = new HubHttp({
      endpoint,
      token: options.token === undefined ? tokenFromEnv(env) : options.token,
      retry: options.retry,
      timeoutMs: options.timeoutMs,
      sleep: options.sleep,
    });
    this.cache = new HubCache(options.cacheDir ?? cacheDirFromEnv(env));
    this.#offlineFromEnv = options.offline === undefined && offlineFromEnv(env);
    this.offline = options.offline ?? this.#offlineFromEnv;
  }

  get endpoint(): string {
    return this.http.endpoint;
  }

  revisionInfo(repo: RepoRef, revision = "main"): Promise<RevisionInfo> {
    return fetchRevisionInfo(this.http, repo, checkRevision(revision));
  }

  /** Downloads one file of a commit into the cache (resuming a partial one). */
  download(
    repo: RepoRef,
    sha: string,
    path: string,
    options: Parameters<typeof downloadFile>[4] = {},
  ): Promise<DownloadedFile> {
    const url = resolveUrl(this.endpoint, repo, sha, path);
    const dest = this.cache.filePath(repo, sha, path);
    return downloadFile(this.http, url, dest, { repo, revision: sha, file: path }, options);
  }

  /** The picked files of a revision, from the cache when it has them all, else downloaded. */
  async snapshot(request: SnapshotRequest): Promise<Snapshot> {
    const { repo, pick } = request;
    const revision = checkRevision(request.revision ?? "main");
    if (this.offline) return this.#fromCache(request, revision, null);
    if (isCommitSha(revision)) {
      // Content at a commit never changes: a complete cached copy needs no trip to the hub.
      const cached = await this.#cached(request, revision);
      if (cached?.missing.length === 0) return cached.snapshot;
    }

    let info: RevisionInfo;
    try {
      info = await this.revisionInfo(repo, revision);
    } catch (error) {
      // The hub is down or out of reach: a cached copy serves (as huggingface_hub does); a
      // wrong name, a missing token or unaccepted terms still fail, since they need fixing.
      const hubTrouble =
        error instanceof HubUnreachableError ||
        (error instanceof HubServerError && (error.status === null || error.status >= 500)) ||
        error instanceof RateLimitError;
      if (!hubTrouble) throw error;
      return this.#fromCache(request, revision, error);
    }
    await this.cache.writeRevision(repo, info);
    await this.cache.writeRef(repo, revision, info.sha);

    const files = pick(info);
    const listed = new Map(info.siblings.map((sibling) => [sibling.rfilename, sibling]));
    const downloaded: DownloadedFile[] = [];
    for (const file of files) {
      const sibling = listed.get(file);
      if (!sibling) {
        throw new EntryNotFoundError(
          `${repoLabel(repo)} has no file ${file} at revision ${revision} (commit ${info.sha.slice(0, 12)}).`,
        );
      }
      if (await this.cache.has(repo, info.sha, file, sibling.size)) continue;
      downloaded.push(
        await this.download(repo, info.sha, file, {
          expectedSize: sibling.size,
          expectedSha256: sibling.lfs?.sha256,
          onProgress: request.onProgress,
        }),
      );
    }
    return {
      repo,
      revision,
      sha: info.sha,
      dir: this.cache.snapshotDir(repo, info.sha),
      info,
      files,
      downloaded,
      online: true,
      notes: [],
    };
  }

  /** What the cache holds for a revision; null when it has no file list for it. */
  async #cached(request: SnapshotRequest, revision: string) {
    const { repo } = request;
    const sha = await this.cache.readRef(repo, revision);
    const info = sha === null ? null : await this.cache.readRevision(repo, sha);
    if (sha === null || info === null) return null;
    const files = request.pick(info);
    const sizes = new Map(info.siblings.map((sibling) => [sibling.rfilename, sibling.size]));
    const missing: string[] = [];
    for (const file of files) {
      if (!(await this.cache.has(repo, sha, file, sizes.get(file)))) missing.push(file);
    }
    const snapshot: Snapshot = {
      repo,
      revision,
      sha,
      dir: this.cache.snapshotDir(repo, sha),
      info,
      files,
      downloaded: [],
      online: false,
      notes: [],
    };
    return { snapshot, missing };
  }

  /** Serves from the cache alone, or explains what it lacks. `cause` null means offline mode. */
  async #fromCache(
    request: SnapshotRequest,
    revision: string,
    cause: HubError | null,
  ): Promise<Snapshot> {
    const { repo } = request;
    const cached = await this.#cached(request, revision);
    if (cached && cached.missing.length === 0) {
      if (cause) {
        cached.snapshot.notes.push(
          `the hub could not be asked for ${repoLabel(repo)}@${revision}; using the cached commit ${cached.snapshot.sha.slice(0, 12)} (${cause.message})`,
        );
      }
      return cached.snapshot;
    }
    const where = this.cache.repoDir(repo);
    const lacks = cached
      ? `lacks ${cached.missing.join(", ")} of ${repoLabel(repo)}@${revision} (commit ${cached.snapshot.sha.slice(0, 12)})`
      : `has no copy of ${repoLabel(repo)}@${revision}`;
    const fetch =
      "Run once with network access to download it, or copy the files to this machine and give the local folder's path instead.";
    if (cause === null) {
      const why = this.#offlineFromEnv ? "HF_HUB_OFFLINE is set" : "offline mode is on";
      throw new NotInCacheError(
        `${why} and the cache (${where}) ${lacks}. ${fetch}${this.#offlineFromEnv ? " (Unset HF_HUB_OFFLINE to go online.)" : ""}`,
      );
    }
    // Same class as the hub's failure (callers test for HubUnreachableError), more words.
    const Kind = cause.constructor as new (
      m: string,
      s: number | null,
      c: string | null,
    ) => HubError;
    throw new Kind(
      `${cause.message} The cache (${where}) cannot stand in: it ${lacks}.`,
      cause.status,
      cause.errorCode,
    );
  }
}
