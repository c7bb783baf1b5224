/**
 * Connecting to Redis: URLs and their redaction, and the clear, fast, password-free errors for
 * an unreachable server and a wrong or missing password (a private redis-server with
 * --requirepass), through the API and through a real `deepconf worker` process.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { InputError } from "../../src/errors.js";
import { startCollector } from "../../src/queue/collector.js";
import { QueueConnection } from "../../src/queue/producer.js";
import {
  connectRedis,
  parseRedisUrl,
  redactRedisUrl,
  redactSecrets,
} from "../../src/queue/redis.js";
import { freePort } from "../support/ports.js";
import { type PrivateRedis, spawnTs, startPrivateRedis } from "../support/queue.js";
import { testTempDir } from "../support/tiny-model.js";

const PASSWORD = "s3cret-Pa55word";

describe("Redis URLs", () => {
  test("parse host, port, db, user and password; print only the redacted form", () => {
    const target = parseRedisUrl(`redis://:${PASSWORD}@10.0.0.5:6380/2`);
    expect(target).toMatchObject({ host: "10.0.0.5", port: 6380, db: 2, password: PASSWORD });
    expect(target.redacted).toBe("redis://:***@10.0.0.5:6380/2");
    expect(parseRedisUrl("redis://localhost").redacted).toBe("redis://localhost:6379");
    expect(parseRedisUrl("rediss://bob:p%40ss@h:1").password).toBe("p@ss");
    expect(parseRedisUrl("rediss://bob:p%40ss@h:1").redacted).toBe("rediss://bob:***@h:1");
    expect(redactRedisUrl(`see redis://:${PASSWORD}@h:1 and redis://u:x@h`)).toBe(
      "see redis://:***@h:1 and redis://u:***@h",
    );
    expect(redactSecrets(`AUTH ${PASSWORD} failed`, { password: PASSWORD })).toBe(
      "AUTH *** failed",
    );
  });

  test("a malformed URL is an input error that does not repeat the password", () => {
    for (const url of [`http://:${PASSWORD}@h:1`, `redis://:${PASSWORD}@h:1/x`, "nonsense"]) {
      expect(() => parseRedisUrl(url)).toThrow(InputError);
      try {
        parseRedisUrl(url);
      } catch (error) {
        expect((error as Error).message).not.toContain(PASSWORD);
      }
    }
  });
});

describe("connecting", () => {
  let server: PrivateRedis;
  beforeAll(async () => {
    server = await startPrivateRedis([
      "--requirepass",
      PASSWORD,
      "--maxmemory-policy",
      "allkeys-lru",
    ]);
  });
  afterAll(() => server?.stop());

  test("an unreachable Redis is a clear input error within seconds, for every role", async () => {
    const url = `redis://:${PASSWORD}@127.0.0.1:${await freePort()}`;
    const began = Date.now();
    const results = await Promise.allSettled([
      connectRedis(url, { role: "worker", timeoutMs: 2000 }),
      QueueConnection.open(url, { timeoutMs: 2000 }),
      startCollector({ redis: url, sweepId: "s", out: testTempDir(), connectTimeoutMs: 2000 }),
    ]);
    for (const result of results) {
      expect(result.status).toBe("rejected");
      const error = (result as PromiseRejectedResult).reason as Error;
      expect(error).toBeInstanceOf(InputError);
      expect(error.message).toMatch(
        /cannot use Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+: connection refused/,
      );
      expect(error.message).not.toContain(PASSWORD);
    }
    expect(Date.now() - began).toBeLessThan(5000);
  });

  test("a wrong or missing password says so, without the password", async () => {
    const wrong = await connectRedis(`redis://:wrong-${PASSWORD}@127.0.0.1:${server.port}`, {
      role: "producer",
    }).catch((e: Error) => e);
    expect(wrong).toBeInstanceOf(InputError);
    expect((wrong as Error).message).toMatch(/refused the password \(WRONGPASS\)/);
    expect((wrong as Error).message).not.toContain(PASSWORD);
    const none = await connectRedis(server.url, { role: "producer" }).catch((e: Error) => e);
    expect((none as Error).message).toMatch(/requires a password \(NOAUTH\)/);
  });

  test("the right password connects, and an evicting Redis is warned about", async () => {
    const warnings: string[] = [];
    const { client, check } = await connectRedis(`redis://:${PASSWORD}@127.0.0.1:${server.port}`, {
      role: "worker",
      onWarning: (w) => warnings.push(w),
    });
    expect(await client.ping()).toBe("PONG");
    client.disconnect();
    expect(check.maxmemoryPolicy).toBe("allkeys-lru");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/maxmemory-policy allkeys-lru.*noeviction/);
    expect(warnings[0]).not.toContain(PASSWORD);
  });

  test("`deepconf worker` with a wrong password exits 2 with the message and no password", async () => {
    const worker = spawnTs("workers/inference-worker.ts", [
      "--redis",
      `redis://:not-${PASSWORD}@127.0.0.1:${server.port}`,
      "--cache-dir",
      testTempDir(),
    ]);
    const { code } = await worker.exited;
    expect(code).toBe(2);
    expect(worker.output()).toMatch(
      /^deepconf worker: cannot use Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+: Redis refused the password/m,
    );
    expect(worker.output()).not.toContain(PASSWORD);
  }, 60_000);
});
