/** The revision endpoint: which commit a branch points to, and the files in it. */
import { z } from "zod";
import { HubServerError, HubUnreachableError, unreachableMessage } from "./errors.js";
import { type HubHttp, networkProblem } from "./http.js";
import { checkRepoPath, isCommitSha, type RepoRef, revisionApiUrl } from "./repo.js";

export interface Sibling {
  rfilename: string;
  /** Present with ?blobs=true. */
  size?: number;
  /** LFS files (weights, parquet): the content's sha256, which the download is checked against. */
  lfs?: { sha256: string; size: number };
}

export interface RevisionInfo {
  id: string;
  /** The commit the asked-for revision points to: every download is pinned to it. */
  sha: string;
  siblings: Sibling[];
  /** false, or "auto" / "manual" (how access requests are approved). */
  gated: false | string;
  private: boolean;
}

const revisionSchema = z.object({
  id: z.string(),
  sha: z.string().refine(isCommitSha, "not a 40-character commit sha"),
  siblings: z.array(
    z.object({
      rfilename: z.string(),
      size: z.number().int().nonnegative().optional(),
      lfs: z
        .object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int() })
        .optional(),
    }),
  ),
  gated: z.union([z.boolean(), z.string()]).optional(),
  private: z.boolean().optional(),
});

/** Parses the revision JSON (from the hub or the cache); throws on a shape we cannot use. */
export function parseRevisionInfo(json: unknown, where: string): RevisionInfo {
  const parsed = revisionSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join(".") || "(top level)";
    throw new HubServerError(
      `unexpected answer from ${where}: ${field}: ${issue?.message ?? "invalid"}; if HF_ENDPOINT points to a mirror, it may not speak the hub's API`,
    );
  }
  const { id, sha, siblings, gated, private: isPrivate } = parsed.data;
  for (const sibling of siblings) checkRepoPath(sibling.rfilename);
  return {
    id,
    sha,
    siblings: siblings.map(({ rfilename, size, lfs }) => ({
      rfilename,
      ...(size === undefined ? {} : { size }),
      ...(lfs === undefined ? {} : { lfs: { sha256: lfs.sha256, size: lfs.size } }),
    })),
    gated: gated === true ? "auto" : (gated ?? false),
    private: isPrivate ?? false,
  };
}

/** GET /api/{models|datasets}/{id}/revision/{revision}. */
export async function fetchRevisionInfo(
  http: HubHttp,
  repo: RepoRef,
  revision: string,
): Promise<RevisionInfo> {
  const url = revisionApiUrl(http.endpoint, repo, revision);
  const response = await http.get(url, { repo, revision });
  let json: unknown;
  try {
    json = await response.json();
  } catch (error) {
    const problem = networkProblem(error, http.timeoutMs);
    if (problem) {
      throw new HubUnreachableError(unreachableMessage(new URL(url).host, problem.reason));
    }
    throw new HubServerError(`the hub's answer for ${url} is not JSON`);
  }
  return parseRevisionInfo(json, url);
}
