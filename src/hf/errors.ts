/**
 * What went wrong talking to the hub, in plain words with the next step to take. All of these
 * are InputErrors: none is a bug in this program, each is fixed by the user (a token, a name, a
 * click on a terms page, a network, patience), so the CLI prints the message alone and exits 2.
 * Messages never hold the token: the only outside text in them (the hub's own error message, a
 * network error's wording) is redacted before it gets here, and URLs never carry credentials.
 */
import { InputError } from "../errors.js";
import { type RepoRef, repoLabel, repoWebUrl } from "./repo.js";
import { HUB_WEBSITE, TOKEN_SETTINGS_URL } from "./settings.js";

export class HubError extends InputError {
  constructor(
    message: string,
    /** HTTP status of the answer that failed; null when there was none. */
    readonly status: number | null = null,
    /** The hub's X-Error-Code header (GatedRepo, RepoNotFound, ...), when it sent one. */
    readonly errorCode: string | null = null,
  ) {
    super(message);
  }
}

/** 401/403 that a token (or a better one) would fix. */
export class HubAuthError extends HubError {}
export class GatedRepoError extends HubError {}
export class RepoNotFoundError extends HubError {}
export class RevisionNotFoundError extends HubError {}
export class EntryNotFoundError extends HubError {}
export class RateLimitError extends HubError {}
/** 5xx after the retries, or an answer this client does not expect. */
export class HubServerError extends HubError {}
/** No answer at all: no route, no DNS, refused, timed out, or connections that keep breaking. */
export class HubUnreachableError extends HubError {}
/** A download that broke repeatedly or does not match the size or checksum the hub announced. */
export class DownloadError extends HubError {}
/** Offline (by choice or by necessity) and the cache lacks what is needed. */
export class NotInCacheError extends HubError {}

/** What a request was for, so a failure can be told in the user's terms. */
export interface RequestContext {
  repo: RepoRef;
  revision?: string;
  file?: string;
}

export interface FailedAnswer {
  status: number;
  statusText: string;
  errorCode: string | null;
  /** The hub's own words (X-Error-Message or the JSON body's "error"), already redacted. */
  serverMessage: string | null;
  url: string;
  /** Whether the request carried a token. */
  authenticated: boolean;
}

const SET_TOKEN = `set HF_TOKEN (a read token from ${TOKEN_SETTINGS_URL})`;

function said(answer: FailedAnswer): string {
  return answer.serverMessage ? ` (the hub says: ${answer.serverMessage})` : "";
}

/** The error for a 4xx answer (5xx and 429 are retried first, see http.ts). */
export function errorForAnswer(answer: FailedAnswer, context: RequestContext): HubError {
  const { status, errorCode, authenticated } = answer;
  const label = repoLabel(context.repo);
  const make = <T extends HubError>(
    Kind: new (m: string, s: number, c: string | null) => T,
    message: string,
  ) => new Kind(message, status, errorCode);

  if (errorCode === "GatedRepo") {
    return authenticated
      ? make(
          GatedRepoError,
          `${label} is gated and the account of your HF_TOKEN has not been granted access: accept the terms at ${repoWebUrl(context.repo)} while logged in as that account, then run again (some repositories review requests by hand, which can take a while).`,
        )
      : make(
          GatedRepoError,
          `${label} is gated: downloading it needs a token of an account that accepted its terms. Accept the terms at ${repoWebUrl(context.repo)}, then ${SET_TOKEN}.`,
        );
  }
  if (status === 401) {
    // The hub answers 401 both for a missing repository and for a private one asked for
    // anonymously, so without a token we cannot tell them apart and must say both.
    if (!authenticated) {
      return make(
        errorCode === "RepoNotFound" || errorCode === null ? RepoNotFoundError : HubAuthError,
        `${label} was not found, or it is private and needs a token (the hub answers 401 for both). Check the name (org/name, as shown on ${HUB_WEBSITE}); if the repository is private, ${SET_TOKEN}.`,
      );
    }
    return make(
      HubAuthError,
      `the hub refused the token in HF_TOKEN for ${label} (401${answer.serverMessage ? `: ${answer.serverMessage}` : ""}): it is probably invalid or expired; create a new read token at ${TOKEN_SETTINGS_URL}.`,
    );
  }
  if (errorCode === "RepoNotFound") {
    return make(
      RepoNotFoundError,
      `${label} does not exist on the hub${authenticated ? ", or it is private and your token cannot see it" : ""}: check the name (org/name, as shown on ${HUB_WEBSITE}).`,
    );
  }
  if (errorCode === "RevisionNotFound") {
    return make(
      RevisionNotFoundError,
      `${label} has no revision "${context.revision ?? "?"}": give a branch (main), a tag or a full commit sha.`,
    );
  }
  if (errorCode === "EntryNotFound") {
    const at = context.revision ? ` at revision ${context.revision}` : "";
    return make(EntryNotFoundError, `${label} has no file ${context.file ?? answer.url}${at}.`);
  }
  if (status === 403) {
    return make(
      HubAuthError,
      `the hub refused access to ${label} (403)${said(answer)}: check that HF_TOKEN is a read token that may read this repository (fine-grained tokens list the repositories they may read).`,
    );
  }
  if (status === 404) {
    return make(RepoNotFoundError, `not found on the hub (404): ${answer.url}${said(answer)}.`);
  }
  return make(
    HubServerError,
    `the hub answered ${status} ${answer.statusText} for ${answer.url}${said(answer)}.`,
  );
}

/** The words for a request that got no answer. */
export function unreachableMessage(host: string, reason: string): string {
  return `cannot reach the Hugging Face hub at ${host} (${reason}). Check the network connection (and HF_ENDPOINT if it is set), or work offline: HF_HUB_OFFLINE=1 uses the files already in the cache, and local copies can be given by path (a model folder; jsonl:, csv: or parquet: files for benchmarks).`;
}
