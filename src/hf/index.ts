/** Hugging Face hub access without the Python library: models now, datasets next. */
export { parseRevisionInfo, type RevisionInfo, type Sibling } from "./api.js";
export { HubCache } from "./cache.js";
export {
  HubClient,
  type HubClientOptions,
  type Snapshot,
  type SnapshotRequest,
} from "./client.js";
export {
  type DownloadedFile,
  type DownloadOptions,
  downloadFile,
  type ProgressCallback,
} from "./download.js";
export {
  DownloadError,
  EntryNotFoundError,
  GatedRepoError,
  HubAuthError,
  HubError,
  HubServerError,
  HubUnreachableError,
  NotInCacheError,
  RateLimitError,
  RepoNotFoundError,
  RevisionNotFoundError,
} from "./errors.js";
export { DEFAULT_RETRY, HubHttp, type RetryPolicy, rateLimitWaitMs } from "./http.js";
export {
  isCommitSha,
  isRepoId,
  parseRepoSpec,
  type RepoRef,
  type RepoType,
  repoWebUrl,
} from "./repo.js";
export {
  cacheDirFromEnv,
  DEFAULT_ENDPOINT,
  endpointFromEnv,
  offlineFromEnv,
  tokenFromEnv,
} from "./settings.js";
