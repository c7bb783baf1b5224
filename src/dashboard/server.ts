/**
 * `deepconf dashboard`: one local web server (hono on Node's http) for sweeps, workers, nodes and
 * results. Binds 127.0.0.1 by default; on any other address every request needs the token made
 * here (the caller prints it once). Without a Redis URL it shows what the disk holds.
 */
import { existsSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { serve } from "@hono/node-server";
import { InputError } from "../errors.js";
import type { QueueConnection } from "../queue/producer.js";
import { openQueue } from "../sweep/queue.js";
import { isLoopback, newToken } from "./auth.js";
import { NodesSource } from "./nodes.js";
import { dashboardRoutes } from "./routes.js";
import { DashboardState } from "./state.js";

export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = "127.0.0.1";

export interface DashboardOptions {
  /** The sweeps' folder (as `sweep launch --out`). */
  out: string;
  /** The queue's Redis; none: the disk only. */
  redis?: string;
  prefix?: string;
  host?: string;
  /** 0: any free port. */
  port?: number;
  /** How often the page gets a snapshot (default 1000 ms). */
  intervalMs?: number;
  /** Where LAMBDA_API_KEY, LAMBDA_API_URL and DEEPCONF_HOME are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** How long Lambda nodes are cached between API reads (default 20 s). */
  nodesMaxAgeMs?: number;
  log?: (line: string) => void;
}

export interface Dashboard {
  url: string;
  /** Needed on every request when not on loopback, and for every POST. */
  token: string;
  loopback: boolean;
  /** The URL to open (with the token when one is needed). */
  openUrl: string;
  close(): Promise<void>;
}

/** The page's files: assets/dashboard in the checkout (src/dashboard or dist/src/dashboard). */
export function assetsDir(): string {
  for (const up of ["../../assets/dashboard", "../../../assets/dashboard"]) {
    const dir = fileURLToPath(new URL(up, import.meta.url));
    if (existsSync(dir)) return dir;
  }
  throw new Error("the dashboard's page files (assets/dashboard) are missing from this install");
}

function listen(
  app: { fetch: (r: Request) => Response | Promise<Response> },
  host: string,
  port: number,
) {
  return new Promise<Server>((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }) as Server;
    server.once("listening", () => resolve(server));
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "EADDRINUSE"
          ? new InputError(`port ${port} on ${host} is in use: give another with --port`)
          : error.code === "EADDRNOTAVAIL"
            ? new InputError(`cannot listen on ${host}: no such address on this machine`)
            : error,
      );
    });
  });
}

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const host = options.host ?? DEFAULT_HOST;
  const log = options.log ?? (() => undefined);
  const token = newToken();
  const loopback = isLoopback(host);
  let connection: QueueConnection | null = null;
  if (options.redis !== undefined) {
    connection = await openQueue({ redis: options.redis, prefix: options.prefix, onWarning: log });
  }
  const nodes = new NodesSource({ env: options.env, maxAgeMs: options.nodesMaxAgeMs, log });
  const state = new DashboardState({ out: options.out, connection, nodes });
  const closing = new AbortController();
  let port = options.port ?? DEFAULT_PORT;
  const app = dashboardRoutes({
    auth: { token, host, port: () => port },
    state,
    connection,
    nodes,
    assetsDir: assetsDir(),
    intervalMs: options.intervalMs ?? 1000,
    closing: closing.signal,
    env: options.env,
    log,
  });
  let server: Server;
  try {
    server = await listen(app, host, port);
  } catch (error) {
    await connection?.close();
    throw error;
  }
  port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(":") ? `[${host}]` : host;
  const url = `http://${shownHost}:${port}/`;
  return {
    url,
    token,
    loopback,
    openUrl: loopback ? url : `${url}?token=${token}`,
    async close() {
      closing.abort();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await connection?.close();
    },
  };
}
