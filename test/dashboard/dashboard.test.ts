/**
 * `deepconf dashboard` in a real browser (Debian's Chromium through playwright-core) against real
 * Redis (this file's own key prefix) and a sweep of the tiny model on in-process workers:
 * - the page shows the sweep's progress advancing, the workers with their shards, a stopped
 *   worker as gone, and its cancel button (a POST with the token, after a confirmation) cancels
 *   the sweep; regenerating a run's report links it; a screenshot is taken.
 * - Off loopback every request needs the token (401 without, also for the event stream and
 *   bull-board), POSTs need it in the header (403 with the cookie alone); with ?token= the page
 *   and bull-board work; a Lambda node (on the local stand-in of the API) shows its GPU and cost
 *   and its terminate button terminates it; the Redis password and the API key never reach the
 *   page.
 * - After the server restarts, the page reconnects by itself and shows the new state.
 * - A failed shard shows the worker's message; the retry button finishes the sweep.
 * - No Redis, or the port taken: a one-line error, exit 2.
 */
import { randomBytes } from "node:crypto";
import { copyFileSync, cpSync, existsSync, renameSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { NodeStore } from "../../src/cloud/nodes/state.js";
import { type Dashboard, startDashboard } from "../../src/dashboard/server.js";
import type { QueueConnection } from "../../src/queue/producer.js";
import type { InferenceWorker } from "../../src/queue/worker.js";
import { followSweep, openQueue } from "../../src/sweep/queue.js";
import { launchBrowser } from "../support/browser.js";
import { deepconf } from "../support/cli.js";
import { FakeLambda } from "../support/fake-lambda.js";
import { freePort } from "../support/ports.js";
import {
  deletePrefix,
  fastWorker,
  REPO,
  SHARED_REDIS,
  startPrivateRedis,
  testPrefix,
  until,
  warmTinyModel,
} from "../support/queue.js";
import { launchFollow, sweepUnder, writeSweepFile } from "../support/sweeps.js";
import { testTempDir, tinyModelDir } from "../support/tiny-model.js";

const prefix = testPrefix();
const cacheDir = testTempDir("cache-");
let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
  await warmTinyModel(cacheDir);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await deletePrefix(prefix);
});

const startWorker = () => fastWorker(prefix, cacheDir);

const doneOf = async (page: Page, sweepId: string) =>
  Number(await page.getAttribute(`[data-testid="sweep-${sweepId}"]`, "data-done"));

describe("deepconf dashboard", () => {
  test("progress advances, a stopped worker shows as gone, cancel works, reports regenerate", async () => {
    const started = Date.now();
    const path = writeSweepFile({
      name: "dashboard",
      limit: 16,
      methods: ["deepconf-low", "baseline"],
      shardSize: 4,
      maxNewTokens: 16,
    });
    const out = testTempDir("sweeps-");
    const workers = await Promise.all([startWorker(), startWorker()]);
    const [kept, stopped] = workers as [InferenceWorker, InferenceWorker];
    let dashboard: Dashboard | null = null;
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    try {
      const launching = launchFollow(path, { out, cacheDir, prefix });
      const sweep = await sweepUnder(out);
      const id = sweep.sweep_id;
      dashboard = await startDashboard({
        out,
        redis: SHARED_REDIS,
        prefix,
        port: 0,
        intervalMs: 250,
        env: { DEEPCONF_HOME: testTempDir("home-") },
      });
      expect(dashboard.loopback).toBe(true);
      await page.goto(dashboard.url);
      await page.waitForSelector('[data-testid="connection"][data-state="live"]');
      const card = `[data-testid="sweep-${id}"]`;
      await page.waitForSelector(card);
      expect(await page.getAttribute(card, "data-total")).toBe("32");

      // Progress advances on the page, without a reload (from a first instance on).
      await until(async () => (await doneOf(page, id)) > 0, {
        what: "a first instance on the page",
        timeoutMs: 60_000,
      });
      const first = await doneOf(page, id);
      await until(async () => (await doneOf(page, id)) > first, {
        what: "the page's progress to advance",
        timeoutMs: 60_000,
      });
      const second = await doneOf(page, id);
      expect(second).toBeGreaterThan(first);
      console.info(`dashboard: progress ${first} -> ${second} of 32 instances`);

      // Both workers are listed, busy on shards of the sweep, with models loaded.
      for (const w of workers) await page.waitForSelector(`[data-testid="worker-${w.id}"]`);
      await page.waitForSelector(`[data-testid="worker-${kept.id}"] >> text=${id}.`);
      // Without a Lambda key the nodes section says so.
      if (!existsSync(join(process.env.HOME ?? "/nonexistent", ".lambda_cloud", "lambda_keys"))) {
        expect(await page.textContent('[data-testid="nodes-message"]')).toBe(
          "no Lambda key configured",
        );
      }

      // A stopped worker shows as gone; the other goes on.
      await stopped.stop();
      await page.waitForSelector(`[data-testid="worker-${stopped.id}"][data-state="gone"]`, {
        timeout: 15_000,
      });
      expect(await page.getAttribute(`[data-testid="worker-${kept.id}"]`, "data-state")).not.toBe(
        "gone",
      );

      // While it runs (one worker gone): the page as README shows it.
      const running = join(testTempDir("screenshots-"), "dashboard-running.png");
      await page.screenshot({ path: running, fullPage: true });
      if (process.env.DASHBOARD_SCREENSHOT === "1") {
        copyFileSync(running, join(REPO, "docs", "dashboard.png"));
      }

      // Cancel: a confirmation, then the POST; the sweep shows as cancelled.
      const dialogs: string[] = [];
      page.on("dialog", (dialog) => {
        dialogs.push(dialog.message());
        void dialog.accept();
      });
      await page.click(`[data-testid="cancel-${id}"]`);
      await page.waitForSelector(`${card}[data-state="cancelled"]`, { timeout: 60_000 });
      expect(dialogs[0]).toMatch(/^Cancel sweep /);
      const launch = await launching;
      expect(launch.code, launch.stderr).toBe(1);
      const status = JSON.parse(
        (
          await deepconf(
            "sweep",
            "status",
            id,
            "--out",
            out,
            "--redis",
            SHARED_REDIS,
            "--prefix",
            prefix,
            "--json",
          )
        ).stdout,
      );
      expect(status.state).toBe("cancelled");
      expect(Number(await page.getAttribute(card, "data-done"))).toBe(status.instances.done);

      // Results: regenerate the first run's figures and report; the page links them.
      const run = sweep.runs[0]?.run_id as string;
      const row = `[data-testid="results-${run}"]`;
      await page.click(`${row} button[data-action="report"]`);
      await page.waitForSelector(`${row} a[href$="/report.html"]`, { timeout: 60_000 });
      const report = await page.request.get(`${dashboard.url}runs/${run}/report.html`);
      expect(report.status()).toBe(200);
      expect(await report.text()).toContain("<html");
      const traversal = await page.request.get(`${dashboard.url}runs/${run}/manifest.json`);
      expect(traversal.status()).toBe(404);

      // The queue itself, through bull-board.
      const queues = await page.request.get(`${dashboard.url}queues/api/queues`);
      expect(queues.status()).toBe(200);
      expect(JSON.stringify(await queues.json())).toContain('"name":"jobs"');

      const shot = join(testTempDir("screenshots-"), "dashboard-cancelled.png");
      await page.screenshot({ path: shot, fullPage: true });
      expect(existsSync(shot)).toBe(true);
      console.info(`dashboard: browser test took ${Date.now() - started} ms`);
    } finally {
      await page.close();
      await dashboard?.close();
      await Promise.all(workers.map((w) => w.stop()));
    }
  }, 180_000);
  test("off loopback: the token on every request (401 without), POSTs need it in the header (403), the page works with ?token=, no secret reaches it", async () => {
    const password = `pw-${randomBytes(8).toString("hex")}`;
    const apiKey = `lambda-${randomBytes(8).toString("hex")}`;
    const redis = await startPrivateRedis(["--requirepass", password]);
    const lambda = await new FakeLambda({ apiKey, rateLimits: false }).start();
    const redisUrl = `redis://:${password}@127.0.0.1:${redis.port}`;
    const out = testTempDir("sweeps-");
    let dashboard: Dashboard | null = null;
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    try {
      const path = writeSweepFile({
        name: "tokens",
        limit: 4,
        methods: ["baseline"],
        shardSize: 2,
      });
      const flags = ["--out", out, "--cache-dir", cacheDir, "--redis", redisUrl];
      const launch = await deepconf("sweep", "launch", path, ...flags, "--prefix", prefix);
      expect(launch.code, launch.stderr).toBe(0);
      expect(launch.stdout + launch.stderr).not.toContain(password);
      const id = (await sweepUnder(out)).sweep_id;
      // A node of ours on the stand-in API, recorded as launched an hour ago.
      const home = testTempDir("home-");
      const instance = lambda.addConsoleInstance({ type: "gpu_1x_a10" });
      const price = instance.instance_type.price_cents_per_hour;
      new NodeStore(join(home, "nodes.json")).put({
        id: instance.id,
        name: "deepconf-dash-1",
        type: "gpu_1x_a10",
        region: instance.region.name,
        priceCentsPerHour: price,
        launchedAt: new Date(Date.now() - 3_600_000).toISOString(),
        terminatedAt: null,
        stage: "booting",
        ip: null,
        ssh: { user: "ubuntu", port: 22, keyFile: join(home, "no-key") },
        remoteDir: "/home/ubuntu/deepconf",
        device: "cuda",
        queuePrefix: prefix,
        tunnelPort: null,
        idleTerminateMs: null,
        gpu: { name: "NVIDIA A10", memoryMiB: 24576, driver: null, cuda: null, count: 1 },
        install: null,
        readyAt: null,
        error: null,
      });
      dashboard = await startDashboard({
        out,
        redis: redisUrl,
        prefix,
        host: "0.0.0.0",
        port: 0,
        intervalMs: 250,
        nodesMaxAgeMs: 0,
        env: {
          DEEPCONF_HOME: home,
          LAMBDA_API_KEY: apiKey,
          LAMBDA_API_URL: lambda.url,
        },
      });
      expect(dashboard.loopback).toBe(false);
      const { token } = dashboard;
      const base = `http://127.0.0.1:${new URL(dashboard.url).port}/`;
      expect(dashboard.openUrl).toBe(`${dashboard.url}?token=${token}`);

      // Every request needs the token: the page, the state, the event stream, bull-board.
      for (const path of [
        "",
        "api/state",
        "api/events",
        "api/session",
        "queues",
        "queues/api/queues",
      ]) {
        expect((await fetch(`${base}${path}`)).status, path).toBe(401);
        expect((await fetch(`${base}${path}?token=wrong-${token}`)).status, path).toBe(401);
      }
      const bearer = { authorization: `Bearer ${token}` };
      expect((await fetch(`${base}api/state`, { headers: bearer })).status).toBe(200);
      // A POST needs the token in its header: the cookie or the query alone is refused.
      const cancel = `${base}api/sweeps/${id}/cancel`;
      expect((await fetch(cancel, { method: "POST" })).status).toBe(401);
      const cookie = { cookie: `deepconf_token=${token}` };
      expect((await fetch(cancel, { method: "POST", headers: cookie })).status).toBe(403);
      expect((await fetch(`${cancel}?token=${token}`, { method: "POST" })).status).toBe(403);
      expect((await fetch(cancel, { method: "POST", headers: bearer })).status).toBe(200);

      // The page with ?token=: live, the sweep shown; the cookie it sets opens bull-board.
      const page = await context.newPage();
      expect((await page.goto(base))?.status()).toBe(401);
      await page.goto(`${base}?token=${token}`);
      await page.waitForSelector('[data-testid="connection"][data-state="live"]');
      await page.waitForSelector(`[data-testid="sweep-${id}"][data-state="cancelled"]`);
      await page.waitForSelector('[data-testid="nodes-total"]');
      expect(page.url()).toBe(base);
      // The node: GPU, cost so far (an hour at its price); terminate after a confirmation.
      const node = '[data-testid="node-deepconf-dash-1"]';
      expect(await page.textContent(node)).toContain("1x NVIDIA A10");
      expect(await page.textContent(node)).toContain(`$${(price / 100).toFixed(2)}/h`);
      const total = Number((await page.textContent('[data-testid="nodes-total"]'))?.slice(1));
      expect(total).toBeGreaterThanOrEqual(price / 100 - 0.01);
      expect(total).toBeLessThan(price / 100 + 0.05);
      page.once("dialog", (dialog) => void dialog.accept());
      await page.click(`${node} button[data-action="terminate"]`);
      await page.waitForSelector(`${node} >> text=terminating`, { timeout: 15_000 });
      expect(lambda.instance(instance.id)?.status).toBe("terminating");
      const board = await page.request.get(`${base}queues/api/queues`);
      expect(board.status()).toBe(200);

      // Nothing secret on the page, in the state, in the events or in bull-board.
      const state = await (await page.request.get(`${base}api/state`)).text();
      expect(state).toContain(`redis://:***@127.0.0.1:${redis.port}`);
      const events = await fetch(`${base}api/events`, { headers: bearer });
      const reader = events.body?.getReader();
      const chunk = new TextDecoder().decode((await reader?.read())?.value);
      await reader?.cancel();
      expect(chunk).toMatch(/^event: snapshot/);
      const seen = [await page.content(), state, chunk, await board.text()].join("\n");
      for (const secret of [password, apiKey, token]) expect(seen).not.toContain(secret);
      await page.goto(`${base}queues`);
      expect(await page.content()).not.toContain(password);
    } finally {
      await context.close();
      await dashboard?.close();
      await lambda.close();
      await redis.stop();
    }
  }, 120_000);

  test("no Redis there, or the port taken: a one-line error, exit 2, nothing secret in it", async () => {
    const port = await freePort();
    const noRedis = await deepconf(
      "dashboard",
      "--port",
      "0",
      "--redis",
      `redis://:hunter2@127.0.0.1:${port}`,
      "--out",
      testTempDir("sweeps-"),
    );
    expect(noRedis.code).toBe(2);
    expect(noRedis.stderr).toBe(
      `deepconf: cannot use Redis at redis://:***@127.0.0.1:${port}: connection refused: is redis-server running there (or the SSH tunnel up)?\n`,
    );
    const first = await startDashboard({ out: testTempDir("sweeps-"), port: 0 });
    try {
      const taken = new URL(first.url).port;
      const again = await deepconf("dashboard", "--port", taken, "--out", testTempDir("sweeps-"));
      expect(again.code).toBe(2);
      expect(again.stderr).toBe(
        `deepconf: port ${taken} on 127.0.0.1 is in use: give another with --port\n`,
      );
    } finally {
      await first.close();
    }
  });

  test("after the server restarts the page reconnects by itself and shows the new state", async () => {
    const out = testTempDir("sweeps-");
    const port = await freePort();
    let dashboard = await startDashboard({ out, port, intervalMs: 200 });
    const page = await browser.newPage();
    try {
      await page.goto(dashboard.url);
      await page.waitForSelector('[data-testid="connection"][data-state="live"]');
      expect(await page.textContent('[data-testid="sweeps"]')).toContain("no sweep in");
      await dashboard.close();
      await page.waitForSelector('[data-testid="connection"][data-state="reconnecting"]');
      // While it is away a sweep is launched (queued, no worker takes it).
      const path = writeSweepFile({ name: "later", limit: 2, methods: ["baseline"], shardSize: 2 });
      const flags = ["--out", out, "--cache-dir", cacheDir, "--redis", SHARED_REDIS];
      const launch = await deepconf("sweep", "launch", path, ...flags, "--prefix", prefix);
      expect(launch.code, launch.stderr).toBe(0);
      const id = (await sweepUnder(out)).sweep_id;
      dashboard = await startDashboard({ out, port, intervalMs: 200 });
      // No reload: the event stream comes back and the next snapshot has the sweep.
      await page.waitForSelector('[data-testid="connection"][data-state="live"]', {
        timeout: 15_000,
      });
      await page.waitForSelector(`[data-testid="sweep-${id}"][data-state="waiting"]`);
    } finally {
      await page.close();
      await dashboard.close();
    }
  }, 60_000);

  test("a failed shard shows its worker's message; the retry button finishes the sweep", async () => {
    const models = testTempDir("models-");
    const copy = join(models, "qwen3-copy");
    cpSync(tinyModelDir(), copy, { recursive: true });
    const path = writeSweepFile({
      name: "failing",
      models: [copy],
      limit: 3,
      methods: ["baseline"],
      shardSize: 3,
    });
    const out = testTempDir("sweeps-");
    const flags = ["--out", out, "--cache-dir", cacheDir, "--redis", SHARED_REDIS];
    const launch = await deepconf("sweep", "launch", path, ...flags, "--prefix", prefix);
    expect(launch.code, launch.stderr).toBe(0);
    const id = (await sweepUnder(out)).sweep_id;
    // The folder goes away after planning, before a worker looks for it.
    renameSync(copy, `${copy}.away`);
    const worker = await startWorker();
    const dashboard = await startDashboard({
      out,
      redis: SHARED_REDIS,
      prefix,
      port: 0,
      intervalMs: 250,
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const collecting = new AbortController();
    let connection: QueueConnection | null = null;
    try {
      await page.goto(dashboard.url);
      const card = `[data-testid="sweep-${id}"]`;
      await page.waitForSelector(`${card}[data-state="failed"]`, { timeout: 30_000 });
      expect(await page.textContent(`${card} .errors`)).toMatch(
        /model folder .*qwen3-copy does not exist/,
      );
      // Fixed: the folder is back; retry, and a collector brings the results home.
      renameSync(`${copy}.away`, copy);
      await page.click(`[data-testid="retry-${id}"]`);
      const sweep = await sweepUnder(out);
      connection = await openQueue({ redis: SHARED_REDIS, prefix });
      const following = followSweep(connection, sweep, {
        out,
        target: { redis: SHARED_REDIS, prefix },
        pollMs: 200,
        signal: collecting.signal,
      });
      await page.waitForSelector(`${card}[data-state="done"]`, { timeout: 60_000 });
      expect(await page.getAttribute(card, "data-done")).toBe("3");
      expect(await page.$(`${card} .errors`)).toBeNull();
      await following;
    } finally {
      collecting.abort();
      await connection?.close();
      await page.close();
      await dashboard.close();
      await worker.stop();
    }
  }, 90_000);
});
