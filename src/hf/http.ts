/**
 * GET requests to the hub: the token only for the hub's own origin, redirects followed by hand
 * (so the token never travels to the CDN a download is redirected to), retries for 429, 5xx and
 * broken connections, and every other failure mapped to an error that says what to do.
 */
import {
  errorForAnswer,
  HubAuthError,
  HubServerError,
  HubUnreachableError,
  RateLimitError,
  type RequestContext,
  unreachableMessage,
} from "./errors.js";
import { TOKEN_SETTINGS_URL } from "./settings.js";

export interface RetryPolicy {
  /** Retries after the first try, for 429, 5xx and broken connections. */
  maxRetries: number;
  /** First backoff; it doubles per retry up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** The longest wait a 429 may ask for: a longer one fails at once, saying how long to wait. */
  maxRateLimitWaitMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxRetries: 5,
  baseDelayMs: 1000,
  maxDelayMs: 8000,
  maxRateLimitWaitMs: 120_000,
};

export interface HubHttpOptions {
  endpoint: string;
  token: string | null;
  retry?: Partial<RetryPolicy>;
  /** No answer (or no body bytes) for this long counts as a broken connection. */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface HubResponse {
  status: number;
  /** Where the body came from, after redirects. */
  url: string;
  headers: Headers;
  /**
   * Headers of the hub's own answer, before a redirect to the CDN: X-Repo-Commit, X-Linked-Size
   * and X-Linked-Etag live there and not on the CDN's answer.
   */
  hubHeaders: Headers;
  /** The body in chunks; a pause longer than timeoutMs aborts it with a StalledError. */
  chunks(): AsyncGenerator<Uint8Array>;
  json(): Promise<unknown>;
  /** Drops the body unread (the connection is then not reused). */
  cancel(): Promise<void>;
}

/** The reason an idle request is aborted with. */
export class StalledError extends Error {}

/** A fetch that threw, with the URL it was for (which may be the CDN's, after a redirect). */
class NetworkFailure extends Error {
  constructor(
    readonly url: string,
    readonly reason: unknown,
  ) {
    super("network failure");
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;

/** Codes of connections that never got going: nothing to gain from retrying at once. */
const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host name not found",
  EAI_AGAIN: "host name lookup failed",
  ENETUNREACH: "network unreachable",
  ENETDOWN: "network down",
  EHOSTUNREACH: "host unreachable",
  UND_ERR_CONNECT_TIMEOUT: "connection timed out",
  ETIMEDOUT: "connection timed out",
};

export interface NetworkProblem {
  reason: string;
  /** A connection that broke (reset, closed, stalled): worth retrying, resuming a download. */
  transient: boolean;
}

/** Plain words for what fetch or a body stream threw; null when it is not a network problem. */
export function networkProblem(error: unknown, timeoutMs?: number): NetworkProblem | null {
  if (error instanceof StalledError) {
    const after = timeoutMs === undefined ? "" : ` within ${timeoutMs / 1000} s`;
    return { reason: `no answer${after}`, transient: true };
  }
  if (!(error instanceof Error)) return null;
  const cause = (error as { cause?: unknown }).cause;
  const inner = cause instanceof Error ? cause : error;
  const code = String((inner as NodeJS.ErrnoException).code ?? "");
  const unreachable = Object.hasOwn(UNREACHABLE, code) ? UNREACHABLE[code] : undefined;
  if (unreachable) return { reason: unreachable, transient: false };
  if (
    /^(ECONNRESET|EPIPE|ECONNABORTED|UND_ERR_SOCKET|UND_ERR_CLOSED|UND_ERR_BODY_TIMEOUT|UND_ERR_HEADERS_TIMEOUT)$/.test(
      code,
    ) ||
    error.message === "terminated"
  ) {
    return { reason: `connection broken (${code || error.message})`, transient: true };
  }
  if (/CERT|SSL|TLS|SELF_SIGNED/.test(code)) {
    // Usually a proxy that inspects TLS with its own certificate authority.
    const hint = "if a proxy signs TLS with its own authority, set NODE_EXTRA_CA_CERTS to its file";
    return { reason: `TLS certificate problem: ${code}; ${hint}`, transient: false };
  }
  if (error.message === "fetch failed") {
    return { reason: code || inner.message, transient: false };
  }
  return null;
}

/**
 * How long a 429 asks us to wait, in ms: Retry-After (seconds or a date), else the IETF draft
 * RateLimit header ("api";r=0;t=55, t = seconds until the window resets), else RateLimit-Reset.
 */
export function rateLimitWaitMs(headers: Headers, now = Date.now()): number | null {
  const retryAfter = headers.get("retry-after")?.trim();
  if (retryAfter) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) return Number(retryAfter) * 1000;
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  const rateLimit = headers.get("ratelimit");
  if (rateLimit) {
    let exhausted: number | null = null;
    let any: number | null = null;
    for (const item of rateLimit.split(",")) {
      const t = /;\s*t=(\d+)/.exec(item);
      if (!t) continue;
      const seconds = Number(t[1]);
      any = Math.max(any ?? 0, seconds);
      if (/;\s*r=0\b/.test(item)) exhausted = Math.max(exhausted ?? 0, seconds);
    }
    const seconds = exhausted ?? any;
    if (seconds !== null) return seconds * 1000;
  }
  const reset = headers.get("ratelimit-reset")?.trim();
  if (reset && /^\d+$/.test(reset)) return Number(reset) * 1000;
  return null;
}

const USER_AGENT = "deepconf-safety (node fetch)";

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class HubHttp {
  readonly endpoint: string;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Private (#) so that logging the client, or an error holding it, cannot print the token. */
  readonly #token: string | null;
  readonly #origin: string;

  constructor(options: HubHttpOptions) {
    this.endpoint = options.endpoint;
    this.#origin = new URL(options.endpoint).origin;
    // fetch's own complaint about a bad header value quotes the value: refuse it here, unquoted.
    if (options.token !== null && !/^[\x21-\x7e]+$/.test(options.token)) {
      throw new HubAuthError(
        `the Hugging Face token (HF_TOKEN) holds characters no token has (a space, a line break or a non-ASCII character): copy it again from ${TOKEN_SETTINGS_URL}`,
      );
    }
    this.#token = options.token;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.sleep = options.sleep ?? defaultSleep;
  }

  get authenticated(): boolean {
    return this.#token !== null;
  }

  /** Removes the token from text that came from outside (a server message, an error's words). */
  redact(text: string): string {
    return this.#token ? text.split(this.#token).join("hf_***") : text;
  }

  backoffMs(retry: number): number {
    return Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** retry);
  }

  /**
   * GET with retries. Resolves with a 2xx answer or one whose status is in `allow`; throws a
   * HubError for anything else.
   */
  async get(
    url: string,
    context: RequestContext,
    options: { headers?: Record<string, string>; allow?: number[] } = {},
  ): Promise<HubResponse> {
    const { maxRetries, maxRateLimitWaitMs } = this.retry;
    for (let attempt = 0; ; attempt++) {
      const tries = attempt > 0 ? ` after ${attempt + 1} tries` : "";
      let answer: Answer;
      try {
        answer = await this.#follow(url, options.headers ?? {});
      } catch (error) {
        if (!(error instanceof NetworkFailure)) throw error;
        const problem = networkProblem(error.reason, this.timeoutMs) ?? {
          reason: String(error.reason),
          transient: false,
        };
        if (problem.transient && attempt < maxRetries) {
          await this.sleep(this.backoffMs(attempt));
          continue;
        }
        const host = new URL(error.url).host;
        throw new HubUnreachableError(
          unreachableMessage(host, this.redact(problem.reason + tries)),
        );
      }
      const { response } = answer;
      const { status } = response;
      if (response.ok || options.allow?.includes(status)) return answer.hubResponse;
      const errorCode = response.headers.get("x-error-code");

      if (status === 429) {
        await answer.hubResponse.cancel();
        const wait = rateLimitWaitMs(response.headers) ?? this.backoffMs(attempt);
        if (attempt >= maxRetries || wait > maxRateLimitWaitMs) {
          const more = this.#token ? "" : ", or set HF_TOKEN: signed-in users get higher limits";
          throw new RateLimitError(
            `the hub is rate-limiting requests (429${tries}) and asks to wait ${Math.ceil(wait / 1000)} s: run again after that${more}.`,
            status,
            errorCode,
          );
        }
        await this.sleep(wait);
        continue;
      }
      if (status >= 500) {
        await answer.hubResponse.cancel();
        if (attempt < maxRetries) {
          await this.sleep(this.backoffMs(attempt));
          continue;
        }
        throw new HubServerError(
          `the hub answered ${status} ${response.statusText} for ${answer.hubResponse.url}${tries}: it seems to be having trouble; try again later (https://status.huggingface.co).`,
          status,
          errorCode,
        );
      }
      throw errorForAnswer(
        {
          status,
          statusText: response.statusText,
          errorCode,
          serverMessage: await this.#serverMessage(answer),
          url: answer.hubResponse.url,
          authenticated: this.#token !== null,
        },
        context,
      );
    }
  }

  /** One try: follows redirects, sending the token only to the hub's own origin. */
  async #follow(start: string, headers: Record<string, string>): Promise<Answer> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(new StalledError("stalled")), this.timeoutMs);
    };
    const disarm = () => clearTimeout(timer);

    let url = start;
    let hubHeaders: Headers | null = null;
    for (let hop = 0; ; hop++) {
      const sent = new Headers({ "user-agent": USER_AGENT, ...headers });
      if (this.#token !== null && new URL(url).origin === this.#origin) {
        sent.set("authorization", `Bearer ${this.#token}`);
      }
      let response: Response;
      arm();
      try {
        response = await fetch(url, {
          headers: sent,
          redirect: "manual",
          signal: controller.signal,
        });
      } catch (error) {
        disarm();
        throw new NetworkFailure(url, error);
      }
      hubHeaders ??= response.headers;
      const location = response.headers.get("location");
      if (REDIRECTS.has(response.status) && location && hop < MAX_REDIRECTS) {
        await response.body?.cancel().catch(() => {});
        url = new URL(location, url).href;
        continue;
      }
      const finalUrl = url;
      const hubResponse: HubResponse = {
        status: response.status,
        url: finalUrl,
        headers: response.headers,
        hubHeaders,
        async *chunks() {
          if (!response.body) return disarm();
          try {
            arm();
            for await (const chunk of response.body) {
              arm();
              yield chunk as Uint8Array;
            }
          } finally {
            disarm();
          }
        },
        async json() {
          try {
            return await response.json();
          } finally {
            disarm();
          }
        },
        async cancel() {
          disarm();
          await response.body?.cancel().catch(() => {});
        },
      };
      return { response, hubResponse };
    }
  }

  /** The hub's own words about a failure: X-Error-Message, else the JSON body's "error". */
  async #serverMessage({ response, hubResponse }: Answer): Promise<string | null> {
    let text = "";
    try {
      text = await response.text();
    } catch {
      // A body we cannot read adds nothing to the status and error code.
    } finally {
      await hubResponse.cancel();
    }
    let message = response.headers.get("x-error-message");
    if (!message) {
      try {
        const error = (JSON.parse(text) as { error?: unknown }).error;
        if (typeof error === "string") message = error;
        else if (Array.isArray(error)) message = error.join("; ");
      } catch {
        const html = /html/i.test(response.headers.get("content-type") ?? "");
        if (!html) message = text;
      }
    }
    // Redact before cutting: a cut could leave a piece of the token that no longer matches.
    message = this.redact(message?.replace(/\s+/g, " ").trim() ?? "");
    if (message.length > 300) message = `${message.slice(0, 297)}...`;
    return message || null;
  }
}

interface Answer {
  response: Response;
  hubResponse: HubResponse;
}
