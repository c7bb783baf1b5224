/**
 * The tool's own record of the nodes it launched (DEEPCONF_HOME/nodes.json). The API is the
 * truth about what exists and bills (fleet.ts reconciles with it on every command); this file
 * adds what the API does not know: when a node was launched, how to reach it, what runs there.
 * A node's id is written the moment the launch call returns, before anything else can fail.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { z } from "zod";
import { InputError } from "../../errors.js";

/** Where a node is on its way from launch to a connected worker. */
const NODE_STAGES = [
  "launching",
  "booting",
  "waiting-ssh",
  "probing-gpu",
  "bootstrapping",
  "starting-worker",
  "ready",
  "failed",
  "terminating",
  "terminated",
] as const;
export type NodeStage = (typeof NODE_STAGES)[number];

const gpuSchema = z.object({
  name: z.string(),
  memoryMiB: z.number().nullable(),
  driver: z.string().nullable(),
  cuda: z.string().nullable(),
  count: z.number().int(),
});
export type GpuProbe = z.infer<typeof gpuSchema>;

const recordSchema = z.object({
  id: z.string(),
  name: z.string(),
  type: z.string(),
  region: z.string(),
  priceCentsPerHour: z.number(),
  /** When the launch call returned: billing is assumed from here. */
  launchedAt: z.string(),
  terminatedAt: z.string().nullable().default(null),
  stage: z.enum(NODE_STAGES),
  ip: z.string().nullable().default(null),
  ssh: z.object({ user: z.string(), port: z.number().int(), keyFile: z.string() }),
  /** Absolute folder on the node once bootstrap has resolved it. */
  remoteDir: z.string(),
  /** The worker's device and queue prefix. */
  device: z.enum(["cuda", "cpu"]),
  queuePrefix: z.string(),
  /** The port on the node's loopback that reaches the orchestrator's Redis. */
  tunnelPort: z.number().int().nullable().default(null),
  idleTerminateMs: z.number().nullable().default(null),
  gpu: gpuSchema.nullable().default(null),
  install: z
    .object({ seconds: z.number(), nodeModulesMiB: z.number().nullable() })
    .nullable()
    .default(null),
  readyAt: z.string().nullable().default(null),
  /** The last failure, for `nodes list`. */
  error: z.string().nullable().default(null),
});
export type NodeRecord = z.infer<typeof recordSchema>;

const fileSchema = z.object({ version: z.literal(1), nodes: z.array(recordSchema) });

/** Reads and writes nodes.json; every write is whole and atomic, mode 0600. */
export class NodeStore {
  constructor(readonly file: string) {}

  all(): NodeRecord[] {
    if (!existsSync(this.file)) return [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.file, "utf8"));
    } catch (error) {
      throw new InputError(
        `${this.file} is not valid JSON (${(error as Error).message}): fix or move it; the API still lists every node (deepconf nodes list)`,
      );
    }
    const result = fileSchema.safeParse(parsed);
    if (!result.success) {
      throw new InputError(
        `${this.file} does not hold node records (${result.error.issues[0]?.message}): fix or move it`,
      );
    }
    return result.data.nodes;
  }

  get(idOrName: string): NodeRecord | undefined {
    return this.all().find((node) => node.id === idOrName || node.name === idOrName);
  }

  /** Adds the record or replaces the one with its id. */
  put(record: NodeRecord): NodeRecord {
    const nodes = this.all().filter((node) => node.id !== record.id);
    nodes.push(record);
    this.write(nodes);
    return record;
  }

  /** Changes fields of a known node; returns the new record (undefined for an unknown id). */
  update(id: string, patch: Partial<NodeRecord>): NodeRecord | undefined {
    const nodes = this.all();
    const index = nodes.findIndex((node) => node.id === id);
    const current = nodes[index];
    if (current === undefined) return undefined;
    const next = { ...current, ...patch };
    nodes[index] = next;
    this.write(nodes);
    return next;
  }

  private write(nodes: NodeRecord[]): void {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const temporary = `${this.file}.tmp-${process.pid}`;
    writeFileSync(temporary, `${JSON.stringify({ version: 1, nodes }, null, 2)}\n`, {
      mode: 0o600,
    });
    chmodSync(temporary, 0o600);
    renameSync(temporary, this.file);
  }
}
