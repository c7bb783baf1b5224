import { type Clock, systemClock } from "./clock.js";
import { LambdaApiError } from "./errors.js";
import { Spacer } from "./spacer.js";
import type {
  AddedSshKey,
  Instance,
  InstanceType,
  InstanceTypeOffer,
  LaunchRequest,
  Region,
  SshKey,
} from "./types.js";

export const DEFAULT_BASE_URL = "https://cloud.lambda.ai/api/v1";

export interface LambdaClientOptions {
  apiKey: string;
  /** Default: LAMBDA_API_URL when set, else the public API. */
  baseUrl?: string;
  clock?: Clock;
  fetch?: typeof fetch;
  /** Retries of a retryable failure (429, 5xx, no answer); default 5. */
  maxRetries?: number;
  /** Least time between requests; default 1000 (the API allows about 1 request/s). */
  minIntervalMs?: number;
  /** Least time between launches; default 12000 (the API allows 1 launch per 12 s). */
  launchIntervalMs?: number;
  log?: (line: string) => void;
}

interface RequestOptions {
  body?: unknown;
  /**
   * Safe to send again after a 5xx or a lost answer (GET, DELETE, terminate). Other calls are
   * retried only on 429, which means the API refused them without acting.
   */
  idempotent: boolean;
  signal?: AbortSignal | undefined;
  launch?: boolean;
}

const BACKOFF_BASE_MS = 1000;
const BACKOFF_CAP_MS = 30_000;

/**
 * A client for Lambda Cloud's public API v1: spaces requests to the API's rate limits, retries
 * what is safe to retry, and turns failures into LambdaApiErrors that say what to do.
 */
export class LambdaClient {
  readonly baseUrl: string;
  // ES private fields: invisible to util.inspect, JSON.stringify and Object.keys.
  readonly #apiKey: string;
  readonly #clock: Clock;
  readonly #fetch: typeof fetch;
  readonly #maxRetries: number;
  readonly #requests: Spacer;
  readonly #launches: Spacer;
  readonly #log: (line: string) => void;

  constructor(options: LambdaClientOptions) {
    this.baseUrl = (options.baseUrl ?? process.env.LAMBDA_API_URL ?? DEFAULT_BASE_URL).replace(
      /\/+$/,
      "",
    );
    this.#apiKey = options.apiKey;
    this.#clock = options.clock ?? systemClock;
    const fetchImpl = options.fetch ?? fetch;
    this.#fetch = (input, init) => fetchImpl(input, init);
    this.#maxRetries = options.maxRetries ?? 5;
    this.#requests = new Spacer(this.#clock, options.minIntervalMs ?? 1000);
    this.#launches = new Spacer(this.#clock, options.launchIntervalMs ?? 12_000);
    this.#log = options.log ?? (() => {});
  }

  /** Every instance type with the regions that can launch it now, cheapest first. */
  async instanceTypes(signal?: AbortSignal): Promise<InstanceTypeOffer[]> {
    const data = await this.#request<
      Record<string, { instance_type: InstanceType; regions_with_capacity_available: Region[] }>
    >("GET", "/instance-types", { idempotent: true, signal });
    return Object.values(data)
      .map((item) => ({
        ...item.instance_type,
        regions_with_capacity_available: item.regions_with_capacity_available,
      }))
      .sort((a, b) => a.price_cents_per_hour - b.price_cents_per_hour);
  }

  async listInstances(signal?: AbortSignal): Promise<Instance[]> {
    return this.#request<Instance[]>("GET", "/instances", { idempotent: true, signal });
  }

  /** The instance, or null when Lambda has no instance with this id (any more). */
  async getInstance(id: string, signal?: AbortSignal): Promise<Instance | null> {
    try {
      return await this.#request<Instance>("GET", `/instances/${encodeURIComponent(id)}`, {
        idempotent: true,
        signal,
      });
    } catch (error) {
      if (error instanceof LambdaApiError && error.code === "global/object-does-not-exist") {
        return null;
      }
      throw error;
    }
  }

  /**
   * Launches one instance and returns its id(s). Not idempotent: retried only on 429. After a 5xx
   * or a lost answer the error has maybeLaunched set: look for the instance by name before trying
   * again. `signal` only cuts the waits before sending: once sent, the outcome must be known.
   */
  async launch(request: LaunchRequest, signal?: AbortSignal): Promise<string[]> {
    const data = await this.#request<{ instance_ids: string[] }>(
      "POST",
      "/instance-operations/launch",
      { body: request, idempotent: false, launch: true, signal },
    );
    return data.instance_ids;
  }

  /**
   * Terminates instances; the answer lists those Lambda terminated and may omit some. A retry
   * after a lost answer can meet global/unknown (already terminating): re-read the instances.
   */
  async terminate(ids: readonly string[], signal?: AbortSignal): Promise<Instance[]> {
    const data = await this.#request<{ terminated_instances: Instance[] }>(
      "POST",
      "/instance-operations/terminate",
      { body: { instance_ids: ids }, idempotent: true, signal },
    );
    return data.terminated_instances;
  }

  async listSshKeys(signal?: AbortSignal): Promise<SshKey[]> {
    return this.#request<SshKey[]>("GET", "/ssh-keys", { idempotent: true, signal });
  }

  /** Adds a public key; without one Lambda generates a pair and returns private_key once. */
  async addSshKey(name: string, publicKey?: string, signal?: AbortSignal): Promise<AddedSshKey> {
    const body = publicKey === undefined ? { name } : { name, public_key: publicKey };
    return this.#request<AddedSshKey>("POST", "/ssh-keys", { body, idempotent: false, signal });
  }

  async deleteSshKey(id: string, signal?: AbortSignal): Promise<void> {
    await this.#request("DELETE", `/ssh-keys/${encodeURIComponent(id)}`, {
      idempotent: true,
      signal,
    });
  }

  async #request<T>(method: string, path: string, options: RequestOptions): Promise<T> {
    const operation = `${method} ${path}`;
    for (let attempt = 0; ; attempt++) {
      const send = () =>
        this.#requests.run(() => this.#send(method, path, operation, options), options.signal);
      const outcome = await (options.launch ? this.#launches.run(send, options.signal) : send());
      if (!(outcome instanceof LambdaApiError)) return outcome as T;
      const retry =
        outcome.retryable &&
        attempt < this.#maxRetries &&
        (options.idempotent || outcome.status === 429);
      if (!retry) throw outcome;
      const waitMs = backoffMs(attempt);
      this.#log(
        `Lambda API: ${operation} failed (${outcome.status ?? outcome.code}); retry ` +
          `${attempt + 1} of ${this.#maxRetries} in ${(waitMs / 1000).toFixed(1)} s`,
      );
      await this.#clock.sleep(waitMs, options.signal);
    }
  }

  /** One attempt: the envelope's data, or the error it stands for (thrown only on abort). */
  async #send(
    method: string,
    path: string,
    operation: string,
    options: RequestOptions,
  ): Promise<unknown> {
    // A launch is not cut off once sent: an aborted launch could still create a billing node.
    const signal = options.launch ? undefined : options.signal;
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.#apiKey}`,
      Accept: "application/json",
    };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    let status: number;
    let text: string;
    try {
      const response = await this.#fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: options.body === undefined ? null : JSON.stringify(options.body),
        signal: signal ?? null,
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      signal?.throwIfAborted();
      return new LambdaApiError({
        code: "network",
        status: null,
        operation,
        apiMessage: this.#redact(causeOf(error)),
        maybeLaunched: options.launch ?? false,
      });
    }
    const body = parseJson(text);
    if (status >= 200 && status < 300 && isObject(body) && "data" in body) return body.data;
    const envelope = isObject(body) && isObject(body.error) ? body.error : null;
    const code = typeof envelope?.code === "string" ? envelope.code : `http/${status}`;
    const message = typeof envelope?.message === "string" ? envelope.message : undefined;
    const suggestion = typeof envelope?.suggestion === "string" ? envelope.suggestion : undefined;
    return new LambdaApiError({
      code,
      status,
      operation,
      ...(message === undefined ? {} : { apiMessage: this.#redact(message) }),
      ...(suggestion === undefined ? {} : { suggestion: this.#redact(suggestion) }),
      // Only a 4xx says the API refused the launch; anything else may have created the node.
      maybeLaunched: (options.launch ?? false) && !(status >= 400 && status < 500),
    });
  }

  /** Text from the API or the network stack should never echo the key; if it does, hide it. */
  #redact(text: string): string {
    return this.#apiKey === "" ? text : text.split(this.#apiKey).join("[redacted]");
  }
}

/** Exponential backoff with jitter: 0.5-1 x 1 s, 2 s, 4 s ... up to 30 s. */
function backoffMs(attempt: number): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
  return Math.round(ceiling * (0.5 + Math.random() / 2));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** fetch hides the real reason ("connect ECONNREFUSED ...") in its cause. */
function causeOf(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Error) return cause.message;
  return error instanceof Error ? error.message : String(error);
}
