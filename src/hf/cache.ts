/**
 * The on-disk cache, laid out like huggingface_hub's so it reads familiar:
 *
 *   {root}/hub/models--{org}--{name}/refs/{revision}         the commit sha a branch pointed to
 *   {root}/hub/models--{org}--{name}/snapshots/{sha}/{path}  the files of that commit
 *   {root}/hub/models--{org}--{name}/revisions/{sha}.json    that commit's file list
 *
 * (datasets--{org}--{name} for datasets). Files are stored in place rather than as links into
 * a blob store: simpler, and a snapshot folder can be copied to another machine as it is.
 * The refs and the file list are what let an offline run find a snapshot and know it is whole.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { parseRevisionInfo, type RevisionInfo } from "./api.js";
import { checkRepoPath, checkRevision, isCommitSha, type RepoRef } from "./repo.js";

export class HubCache {
  constructor(readonly root: string) {}

  repoDir(repo: RepoRef): string {
    return join(this.root, "hub", `${repo.type}s--${repo.id.replaceAll("/", "--")}`);
  }

  snapshotDir(repo: RepoRef, sha: string): string {
    if (!isCommitSha(sha)) throw new Error(`not a commit sha: ${sha}`);
    return join(this.repoDir(repo), "snapshots", sha);
  }

  filePath(repo: RepoRef, sha: string, path: string): string {
    return join(this.snapshotDir(repo, sha), checkRepoPath(path));
  }

  /** The sha a revision pointed to when last seen online; a sha is its own answer. */
  async readRef(repo: RepoRef, revision: string): Promise<string | null> {
    if (isCommitSha(revision)) return revision;
    try {
      const sha = (await readFile(this.#refPath(repo, revision), "utf8")).trim();
      return isCommitSha(sha) ? sha : null;
    } catch {
      return null;
    }
  }

  async writeRef(repo: RepoRef, revision: string, sha: string): Promise<void> {
    if (isCommitSha(revision)) return;
    await writeAtomic(this.#refPath(repo, revision), sha);
  }

  async readRevision(repo: RepoRef, sha: string): Promise<RevisionInfo | null> {
    const path = this.#revisionPath(repo, sha);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch {
      return null;
    }
    try {
      return parseRevisionInfo(JSON.parse(text), path);
    } catch {
      return null; // A damaged list is as good as none: the next online run rewrites it.
    }
  }

  async writeRevision(repo: RepoRef, info: RevisionInfo): Promise<void> {
    await writeAtomic(this.#revisionPath(repo, info.sha), `${JSON.stringify(info)}\n`);
  }

  /** Whether a finished copy of the file is there (and of the listed size, when known). */
  async has(repo: RepoRef, sha: string, path: string, size?: number): Promise<boolean> {
    const file = this.filePath(repo, sha, path);
    if (size === undefined) return existsSync(file);
    try {
      return (await stat(file)).size === size;
    } catch {
      return false;
    }
  }

  #refPath(repo: RepoRef, revision: string): string {
    return join(this.repoDir(repo), "refs", checkRevision(revision));
  }

  #revisionPath(repo: RepoRef, sha: string): string {
    if (!isCommitSha(sha)) throw new Error(`not a commit sha: ${sha}`);
    return join(this.repoDir(repo), "revisions", `${sha}.json`);
  }
}

/** Write then rename, so a reader never sees half a file. */
async function writeAtomic(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, path);
}
