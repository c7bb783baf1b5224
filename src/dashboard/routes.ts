/**
 * The dashboard's HTTP routes (hono): the page and its assets, the state as JSON and as
 * server-sent events (a whole snapshot per event), the buttons (POST: cancel, retry, terminate,
 * regenerate a report), the runs' report and figure files, and bull-board under /queues.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { HonoAdapter } from "@bull-board/hono";
import { serveStatic } from "@hono/node-server/serve-static";
import { type Context, Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { InputError } from "../errors.js";
import { tokenFromEnv } from "../hf/settings.js";
import type { QueueConnection } from "../queue/producer.js";
import { redactSecrets } from "../queue/redis.js";
import { cancelSweep, retrySweep } from "../sweep/queue.js";
import { type AuthOptions, authMiddleware, isLoopback } from "./auth.js";
import type { NodesSource } from "./nodes.js";
import { regenerateReport, runFile } from "./reports.js";
import type { DashboardState, Snapshot } from "./state.js";

export interface RoutesOptions {
  auth: AuthOptions;
  state: DashboardState;
  connection: QueueConnection | null;
  nodes: NodesSource;
  assetsDir: string;
  /** How often each open event stream gets a snapshot. */
  intervalMs: number;
  /** Where HF_TOKEN is read, to keep it off the page (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Set when the server closes: event streams end. */
  closing: AbortSignal;
  log: (line: string) => void;
}

const ASSETS: Record<string, string> = {
  "app.js": "text/javascript; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
};

const PAGE_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

/**
 * Any secret value this process knows (the Redis password, the Lambda API key, HF_TOKEN) cut
 * out of text bound for the page: a worker's error message cannot carry one there either.
 */
export function scrubber(secrets: readonly (string | null | undefined)[]) {
  const values = secrets.filter((s): s is string => typeof s === "string" && s.length >= 4);
  const forms = [
    ...new Set(values.flatMap((v) => [v, encodeURIComponent(v), JSON.stringify(v).slice(1, -1)])),
  ];
  return (text: string) => forms.reduce((out, form) => out.split(form).join("***"), text);
}

/** One snapshot at a time (as scrubbed JSON), shared by every client asking within `maxAgeMs`. */
function snapshots(state: DashboardState, maxAgeMs: number, scrub: (text: string) => string) {
  let last: { at: number; json: string } | null = null;
  let inFlight: Promise<string> | null = null;
  return async (): Promise<string> => {
    if (last !== null && Date.now() - last.at < maxAgeMs) return last.json;
    inFlight ??= state
      .snapshot()
      .then((value: Snapshot) => {
        const json = scrub(JSON.stringify(value));
        last = { at: Date.now(), json };
        return json;
      })
      .finally(() => {
        inFlight = null;
      });
    return inFlight;
  };
}

export function dashboardRoutes(options: RoutesOptions): Hono {
  const { state, connection, nodes, log } = options;
  const app = new Hono();
  const scrub = scrubber([connection?.target.password, nodes.secret, tokenFromEnv(options.env)]);
  const snapshot = snapshots(state, Math.max(100, options.intervalMs / 2), scrub);
  const problem = (c: Context, error: unknown) => {
    const message = scrub(redactSecrets((error as Error).message, connection?.target));
    if (error instanceof InputError) return c.json({ error: message }, 400);
    log(`error: ${message}`);
    return c.json({ error: message }, 500);
  };

  app.use("*", async (c, next) => {
    await next();
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "no-referrer");
  });
  app.use("*", authMiddleware(options.auth));

  app.get("/", async (c) => {
    c.header("Content-Security-Policy", PAGE_CSP);
    c.header("Cache-Control", "no-store");
    return c.html(await readFile(join(options.assetsDir, "index.html"), "utf8"));
  });
  app.get("/assets/:file", async (c) => {
    const file = c.req.param("file");
    const type = ASSETS[file];
    if (type === undefined) return c.notFound();
    c.header("Content-Type", type);
    c.header("Cache-Control", "no-store");
    return c.body(await readFile(join(options.assetsDir, file)));
  });

  app.get("/api/session", (c) =>
    c.json({ token: options.auth.token, loopback: isLoopback(options.auth.host) }),
  );
  app.get("/api/state", async (c) => {
    c.header("Cache-Control", "no-store");
    c.header("Content-Type", "application/json; charset=utf-8");
    return c.body(await snapshot());
  });
  app.get("/api/events", (c) =>
    streamSSE(c, async (stream) => {
      let id = 0;
      while (!stream.aborted && !options.closing.aborted) {
        let event = "snapshot";
        const data = await snapshot().catch((error: unknown) => {
          event = "problem";
          const message = redactSecrets((error as Error).message, connection?.target);
          return scrub(JSON.stringify({ error: message }));
        });
        await stream.writeSSE({
          event,
          data,
          id: String(id++),
          retry: 1000,
        });
        await stream.sleep(options.intervalMs);
      }
    }),
  );

  const sweepAction = (action: "cancel" | "retry") => async (c: Context) => {
    if (connection === null) return c.json({ error: "no queue: start with --redis URL" }, 409);
    const sweep = await state.sweep(c.req.param("id") ?? "");
    if (sweep === null) return c.json({ error: "no such sweep" }, 404);
    try {
      const result =
        action === "cancel"
          ? await cancelSweep(connection, sweep)
          : await retrySweep(connection, sweep);
      log(`${action} ${sweep.sweep_id}: ${JSON.stringify(result)}`);
      return c.json(result);
    } catch (error) {
      return problem(c, error);
    }
  };
  app.post("/api/sweeps/:id/cancel", sweepAction("cancel"));
  app.post("/api/sweeps/:id/retry", sweepAction("retry"));

  app.post("/api/runs/:runId/report", async (c) => {
    const dir = await state.runDirOf(c.req.param("runId"));
    if (dir === null) return c.json({ error: "no such run" }, 404);
    try {
      return c.json(await regenerateReport(dir));
    } catch (error) {
      return problem(c, error);
    }
  });
  app.get("/runs/:runId/*", async (c) => {
    const runId = c.req.param("runId");
    const dir = await state.runDirOf(runId);
    if (dir === null) return c.notFound();
    const name = decodeURIComponent(c.req.path.slice(`/runs/${runId}/`.length));
    const file = await runFile(dir, name);
    if (file === null) return c.notFound();
    c.header("Content-Type", file.type);
    c.header("Cache-Control", "no-store");
    if (file.type.startsWith("image/svg")) c.header("Content-Security-Policy", "script-src 'none'");
    return c.body(new Uint8Array(file.body));
  });

  app.post("/api/nodes/:name/terminate", async (c) => {
    try {
      const outcome = await nodes.terminate(c.req.param("name"));
      log(`terminate ${c.req.param("name")}: ${outcome.status}`);
      return c.json(outcome);
    } catch (error) {
      return problem(c, error);
    }
  });

  if (connection !== null) {
    const board = new HonoAdapter(serveStatic).setBasePath("/queues");
    createBullBoard({
      // Read-only: the page's own buttons change state, with the token.
      queues: [new BullMQAdapter(connection.queue, { readOnlyMode: true })],
      serverAdapter: board,
      options: { uiConfig: { boardTitle: "deepconf queue" } },
    });
    app.route("/queues", board.registerPlugin());
  } else {
    app.get("/queues", (c) => c.text("no queue: start the dashboard with --redis URL", 404));
  }
  return app;
}
