/**
 * Repository names, revisions and file paths, and the hub URLs built from them. Everything that
 * ends up in a URL or a cache path is checked here, because file names come from the server and
 * a path like "../x" must never escape the cache.
 */
import { InputError } from "../errors.js";
import { HUB_WEBSITE } from "./settings.js";

export type RepoType = "model" | "dataset";

export interface RepoRef {
  type: RepoType;
  /** "org/name", or a bare "name" for the hub's oldest repositories. */
  id: string;
}

/** Hub names: letters, digits, "-", "_", "."; an optional owner before one slash. */
const REPO_ID = /^(?:[A-Za-z0-9][\w.-]*\/)?[A-Za-z0-9][\w.-]*$/;
const COMMIT_SHA = /^[0-9a-f]{40}$/;

export function isRepoId(text: string): boolean {
  return REPO_ID.test(text) && !text.includes("..") && !text.includes("--");
}

/** A full commit sha: content at it never changes, so it needs no trip to the hub. */
export function isCommitSha(revision: string): boolean {
  return COMMIT_SHA.test(revision);
}

/** Splits "org/name@revision"; the revision is null when not given. */
export function parseRepoSpec(spec: string): { id: string; revision: string | null } {
  const at = spec.indexOf("@");
  const id = at < 0 ? spec : spec.slice(0, at);
  const revision = at < 0 ? null : spec.slice(at + 1);
  if (!isRepoId(id)) {
    throw new InputError(
      `"${spec}" is not a Hugging Face repository id: expected org/name, optionally @revision`,
    );
  }
  if (revision !== null) checkRevision(revision);
  return { id, revision };
}

/** Branch, tag or sha. Slashes are allowed (refs/convert/parquet), climbing out is not. */
export function checkRevision(revision: string): string {
  const parts = revision.split("/");
  if (
    revision === "" ||
    revision.includes("\\") ||
    parts.some((part) => part === "" || part === "." || part === "..")
  ) {
    throw new InputError(
      `"${revision}" is not a usable revision: give a branch (main), a tag or a commit sha`,
    );
  }
  return revision;
}

/** A relative file path inside a repository, safe to join to a cache directory. */
export function checkRepoPath(path: string): string {
  const parts = path.split("/");
  if (
    path.includes("\\") ||
    path.includes("\0") ||
    parts.some((part) => part === "" || part === "." || part === "..")
  ) {
    throw new InputError(`the hub listed a file with an unsafe path: ${JSON.stringify(path)}`);
  }
  return path;
}

/** "model org/name" or "dataset org/name", for messages. */
export function repoLabel(repo: RepoRef): string {
  return `${repo.type} ${repo.id}`;
}

/** The repository's page on huggingface.co, where gated terms are accepted. */
export function repoWebUrl(repo: RepoRef): string {
  return `${HUB_WEBSITE}/${repo.type === "dataset" ? "datasets/" : ""}${repo.id}`;
}

export function revisionApiUrl(endpoint: string, repo: RepoRef, revision: string): string {
  // blobs=true adds each file's size and LFS sha256: totals for progress and a checksum to verify.
  return `${endpoint}/api/${repo.type}s/${repo.id}/revision/${encodeURIComponent(revision)}?blobs=true`;
}

export function resolveUrl(
  endpoint: string,
  repo: RepoRef,
  revision: string,
  path: string,
): string {
  const prefix = repo.type === "dataset" ? "datasets/" : "";
  const file = checkRepoPath(path).split("/").map(encodeURIComponent).join("/");
  return `${endpoint}/${prefix}${repo.id}/resolve/${encodeURIComponent(revision)}/${file}`;
}
