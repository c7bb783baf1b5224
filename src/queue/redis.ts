/**
 * Redis connections for the queue, from a URL (`redis://[user][:password@]host[:port][/db]`,
 * `rediss://` for TLS). Connecting checks what the queue needs and says clearly what is wrong,
 * within a few seconds: an unreachable server, a wrong or missing password, a Redis too old for
 * streams with consumer groups (XAUTOCLAIM: 6.2), an eviction policy that may drop queue keys.
 * A password never appears in a message: every URL shown is redacted (redis://:***@host:port).
 */
import { Redis, type RedisOptions } from "ioredis";
import { InputError } from "../errors.js";

/** Who holds a connection decides how it behaves while Redis is away. */
export type RedisRole =
  /** Waits for Redis to come back (BullMQ workers require maxRetriesPerRequest: null). */
  | "worker"
  /** Fails at once while disconnected (enableOfflineQueue: false), as BullMQ advises producers. */
  | "producer";

export interface RedisTarget {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
  /** The URL with its password replaced by ***: the only form that is ever printed. */
  redacted: string;
}

export const DEFAULT_REDIS_PORT = 6379;

/** Parses a Redis URL; a malformed one is an InputError that does not repeat the password. */
export function parseRedisUrl(url: string): RedisTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InputError(
      `"${redactRedisUrl(url)}" is not a Redis URL: expected redis://[:password@]host[:port][/db]`,
    );
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new InputError(
      `"${redactRedisUrl(url)}" is not a Redis URL: expected redis://[:password@]host[:port][/db] (or rediss:// for TLS)`,
    );
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1") || "127.0.0.1";
  const port = parsed.port === "" ? DEFAULT_REDIS_PORT : Number(parsed.port);
  const path = parsed.pathname.replace(/^\//, "");
  const db = path === "" ? 0 : Number(path);
  if (!/^\d*$/.test(path) || !Number.isSafeInteger(db)) {
    throw new InputError(
      `"${redactRedisUrl(url)}": the path must be a database number (e.g. /0), got "/${path}"`,
    );
  }
  const username = parsed.username === "" ? undefined : decodeURIComponent(parsed.username);
  const password = parsed.password === "" ? undefined : decodeURIComponent(parsed.password);
  const tls = parsed.protocol === "rediss:";
  const shownHost = host.includes(":") ? `[${host}]` : host;
  const auth = password !== undefined ? `${username ?? ""}:***@` : username ? `${username}@` : "";
  const redacted = `${parsed.protocol}//${auth}${shownHost}:${port}${db === 0 ? "" : `/${db}`}`;
  return { host, port, db, username, password, tls, redacted };
}

/** Any text with the passwords of the URLs in it (redis://, or any scheme) replaced by ***. */
export function redactRedisUrl(text: string): string {
  return text.replace(
    /([a-z][a-z0-9+.-]*:\/\/)([^@\s/]*)@/gi,
    (_match, scheme: string, auth: string) =>
      `${scheme}${auth.includes(":") ? `${auth.slice(0, auth.indexOf(":"))}:***` : auth}@`,
  );
}

/** A message with the target's password (plain or URL-encoded) and any URL credentials masked. */
export function redactSecrets(text: string, target?: Pick<RedisTarget, "password">): string {
  let out = redactRedisUrl(text);
  const password = target?.password;
  if (password !== undefined && password.length > 0) {
    for (const form of new Set([password, encodeURIComponent(password)])) {
      out = out.split(form).join("***");
    }
  }
  return out;
}

/** ioredis options for a role (BullMQ takes the same object as its `connection`). */
export function redisOptions(target: RedisTarget, role: RedisRole): RedisOptions {
  return {
    host: target.host,
    port: target.port,
    db: target.db,
    username: target.username,
    password: target.password,
    tls: target.tls ? {} : undefined,
    ...(role === "worker"
      ? { maxRetriesPerRequest: null }
      : { enableOfflineQueue: false, maxRetriesPerRequest: 1 }),
    // Reconnect with a capped backoff once a connection has worked.
    retryStrategy: (times: number) => Math.min(200 * times, 2000),
  };
}

export interface ConnectOptions {
  role: RedisRole;
  /** How long the first connection may take before it is an error (default 5 s). */
  timeoutMs?: number;
  /** Said once per connection when Redis is set up in a way that may lose queue data. */
  onWarning?: (message: string) => void;
  /** Errors after the connection worked (Redis went away; ioredis reconnects by itself). */
  onError?: (message: string) => void;
}

export interface RedisCheck {
  version: string;
  maxmemoryPolicy: string | null;
}

/** A reason in words for a failed connection, from ioredis's last error. */
function connectProblem(error: Error | null, timedOut: boolean, timeoutMs: number): string {
  const message = error?.message ?? "";
  if (/WRONGPASS|invalid password|invalid username-password/i.test(message)) {
    return "Redis refused the password (WRONGPASS): check the password in the URL";
  }
  if (/NOAUTH/i.test(message)) {
    return "Redis requires a password (NOAUTH): give it in the URL, redis://:PASSWORD@host:port";
  }
  if (/ECONNREFUSED/.test(message)) {
    return "connection refused: is redis-server running there (or the SSH tunnel up)?";
  }
  if (/ENOTFOUND|EAI_AGAIN/.test(message)) return "unknown host";
  if (timedOut || /ETIMEDOUT|timed? ?out/i.test(message)) {
    return `no answer within ${Math.round(timeoutMs / 100) / 10} s`;
  }
  if (/Protocol error|Unknown RESP/i.test(message)) {
    return "the server there does not speak the Redis protocol";
  }
  return message === "" ? "the connection closed" : (message.split("\n")[0] ?? message);
}

/**
 * Connects to Redis and checks it. Rejects with an InputError within about `timeoutMs` when the
 * server cannot be reached, refuses the password or is too old; never retries the first
 * connection forever. Afterwards the client reconnects by itself (workers wait for it).
 */
export async function connectRedis(
  url: string | RedisTarget,
  options: ConnectOptions,
): Promise<{ client: Redis; target: RedisTarget; check: RedisCheck }> {
  const target = typeof url === "string" ? parseRedisUrl(url) : url;
  const timeoutMs = options.timeoutMs ?? 5000;
  const base = redisOptions(target, options.role);
  const client = new Redis({
    ...base,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    // The first connection must fail fast; the role's strategy takes over once it works.
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  });
  let lastError: Error | null = null;
  let connected = false;
  client.on("error", (error: Error) => {
    lastError = error;
    if (connected) options.onError?.(redactSecrets(error.message, target));
  });
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise((_resolve, reject) => {
        timer = setTimeout(() => {
          timedOut = true;
          reject(new Error("timed out"));
        }, timeoutMs + 500);
      }),
    ]);
    await client.ping();
  } catch (error) {
    client.disconnect();
    const problem = connectProblem(lastError ?? (error as Error), timedOut, timeoutMs);
    throw new InputError(
      redactSecrets(`cannot use Redis at ${target.redacted}: ${problem}`, target),
    );
  } finally {
    clearTimeout(timer);
  }
  connected = true;
  const check = await checkServer(client, target, options.onWarning);
  Object.assign(client.options, {
    retryStrategy: base.retryStrategy,
    maxRetriesPerRequest: base.maxRetriesPerRequest,
    enableOfflineQueue: base.enableOfflineQueue ?? true,
  });
  return { client, target, check };
}

async function checkServer(
  client: Redis,
  target: RedisTarget,
  onWarning: ((message: string) => void) | undefined,
): Promise<RedisCheck> {
  const info = await client.info("server");
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? "0";
  const [major = 0, minor = 0] = version.split(".").map(Number);
  if (major < 6 || (major === 6 && minor < 2)) {
    client.disconnect();
    throw new InputError(
      `Redis at ${target.redacted} is version ${version}: the queue needs 6.2 or newer (streams with XAUTOCLAIM)`,
    );
  }
  let maxmemoryPolicy: string | null = null;
  try {
    const reply = (await client.config("GET", "maxmemory-policy")) as string[];
    maxmemoryPolicy = reply[1] ?? null;
  } catch {
    // CONFIG may be disabled (managed Redis): nothing to check then.
  }
  if (maxmemoryPolicy !== null && maxmemoryPolicy !== "noeviction") {
    onWarning?.(
      `WARNING: Redis at ${target.redacted} has maxmemory-policy ${maxmemoryPolicy}: when memory runs out it may evict queued jobs and undelivered results. Set it to noeviction (redis-cli CONFIG SET maxmemory-policy noeviction, and in redis.conf).`,
    );
  }
  return { version, maxmemoryPolicy };
}

/** Deletes every key under `<prefix>:` and nothing else (SCAN, so Redis is never blocked). */
export async function deleteKeysUnder(client: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500);
    cursor = next;
    if (keys.length > 0) await client.del(...keys);
  } while (cursor !== "0");
}

/** Closes a client politely, or at once when Redis does not answer. */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === "end") return;
  try {
    await Promise.race([
      client.quit(),
      new Promise((_resolve, reject) => setTimeout(() => reject(new Error("quit")), 1000).unref()),
    ]);
  } catch {
    client.disconnect();
  }
}
