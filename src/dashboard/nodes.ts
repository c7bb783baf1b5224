/**
 * Lambda nodes for the page: what `deepconf nodes list` and `cost` show (status, uptime, cost so
 * far, the total), read from the API at most every `maxAgeMs` (the API limits requests), and the
 * terminate button. Only when an API key is configured (LAMBDA_API_KEY or the keys file); the
 * key itself never leaves this process: the view has names, states and money only.
 */
import { resolveApiKey } from "../cloud/lambda/credentials.js";
import { fleet, pickNode, terminateCommand } from "../cloud/nodes/commands.js";
import { isEnded } from "../cloud/nodes/fleet.js";
import {
  DEFAULT_NAME_PREFIX,
  type NodesSession,
  openNodesSession,
} from "../cloud/nodes/session.js";
import { InputError } from "../errors.js";
import { redactSecrets } from "../queue/redis.js";

export const NO_LAMBDA_KEY = "no Lambda key configured";

export interface NodeView {
  id: string;
  name: string | null;
  status: string;
  type: string;
  region: string;
  gpu: string | null;
  price_per_hour: number;
  uptime_s: number | null;
  cost_usd: number | null;
}

export type NodesView =
  | { configured: false; message: string }
  | {
      configured: true;
      /** The last read failed (the nodes shown are from before, or none). */
      error: string | null;
      nodes: NodeView[];
      /** Live nodes' price per hour, summed. */
      hourly_usd: number;
      /** Every recorded node's cost so far, ended ones included. */
      total_cost_usd: number;
      read_at: string | null;
    };

function viewOf(node: Awaited<ReturnType<typeof fleet>>[number]): NodeView {
  return {
    id: node.id,
    name: node.name,
    status: node.status,
    type: node.type,
    region: node.region,
    gpu: node.record?.gpu
      ? `${node.record.gpu.count}x ${node.record.gpu.name}`
      : (node.instance?.instance_type.gpu_description ?? null),
    price_per_hour: node.priceCentsPerHour / 100,
    uptime_s: node.uptimeMs === null ? null : Math.round(node.uptimeMs / 1000),
    cost_usd: node.costUsd === null ? null : Number(node.costUsd.toFixed(4)),
  };
}

export class NodesSource {
  private session: NodesSession | null = null;
  /** Kept only to scrub it from anything sent to the page. */
  private key: string | null = null;
  private readonly message: string | null = null;
  private last: NodesView | null = null;
  private readAt = 0;
  private inFlight: Promise<NodesView> | null = null;

  constructor(
    private readonly options: {
      env?: NodeJS.ProcessEnv;
      namePrefix?: string;
      maxAgeMs?: number;
      log?: (line: string) => void;
    } = {},
  ) {
    try {
      this.session = openNodesSession({ env: options.env });
      this.key = resolveApiKey({ env: options.env }).key;
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      this.message = NO_LAMBDA_KEY;
    }
  }

  /** The API key, for scrubbing (never sent anywhere). */
  get secret(): string | null {
    return this.key;
  }

  get configured(): boolean {
    return this.session !== null;
  }

  /** The nodes, read again when the last read is older than maxAgeMs (default 20 s). */
  async view(): Promise<NodesView> {
    const session = this.session;
    if (session === null) return { configured: false, message: this.message ?? NO_LAMBDA_KEY };
    const fresh = Date.now() - this.readAt < (this.options.maxAgeMs ?? 20_000);
    if (this.last !== null && fresh) return this.last;
    this.inFlight ??= this.read(session).finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async read(session: NodesSession): Promise<NodesView> {
    const prefix = this.options.namePrefix ?? DEFAULT_NAME_PREFIX;
    try {
      const all = await fleet(session, prefix, true);
      const live = all.filter((n) => !isEnded(n));
      this.last = {
        configured: true,
        error: null,
        nodes: live.map(viewOf),
        hourly_usd: live.reduce((s, n) => s + n.priceCentsPerHour / 100, 0),
        total_cost_usd: Number(all.reduce((s, n) => s + (n.costUsd ?? 0), 0).toFixed(4)),
        read_at: new Date().toISOString(),
      };
    } catch (error) {
      const message = redactSecrets((error as Error).message);
      this.last =
        this.last?.configured === true
          ? { ...this.last, error: message }
          : {
              configured: true,
              error: message,
              nodes: [],
              hourly_usd: 0,
              total_cost_usd: 0,
              read_at: null,
            };
    }
    this.readAt = Date.now();
    return this.last;
  }

  /** Terminates one live node by name or id (its worker first hands its job back). */
  async terminate(nameOrId: string): Promise<{ terminated: boolean; status: string }> {
    const session = this.session;
    if (session === null) throw new InputError(NO_LAMBDA_KEY);
    const node = pickNode(
      await fleet(session, this.options.namePrefix ?? DEFAULT_NAME_PREFIX),
      nameOrId,
    );
    const log = (line: string) => this.options.log?.(line);
    const [outcome] = await terminateCommand(
      session,
      [node],
      { graceful: true },
      { stdout: log, info: log, warn: log },
    );
    this.readAt = 0;
    return { terminated: outcome?.terminated ?? false, status: outcome?.status ?? "unknown" };
  }
}
