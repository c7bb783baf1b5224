/**
 * A stand-in for Lambda Cloud's public API v1 on 127.0.0.1, built from the OpenAPI spec (1.8.3):
 * same paths under /api/v1, the `{"data": ...}` / `{"error": {code, message, suggestion?}}`
 * envelopes, the same codes and HTTP statuses. It lets the client (and later the provisioner)
 * be tested over real HTTP on machines with no route to Lambda:
 *
 * - Auth: `Authorization: Bearer <key>` (or Basic base64("<key>:")); otherwise 401
 *   global/invalid-api-key. `accountInactive` -> 403 global/account-inactive on every call.
 * - GET /instance-types with per-region capacity (`setCapacity`). Launch: exactly one existing
 *   SSH key, name <= 64 characters, known type and region, else 400 global/invalid-parameters;
 *   file systems must exist (404 global/object-does-not-exist) and be in the launch region
 *   (400 .../file-system-in-wrong-region); `billingAddressInvalid` -> 403 global/invalid-address;
 *   `quotaExceeded` -> 400 global/quota-exceeded; no capacity -> 400 .../insufficient-capacity.
 * - Rate limits (`rateLimits`, on by default): requests less than 1 s apart and launches less
 *   than 12 s apart get 429. The spec documents no code for it; we answer
 *   global/rate-limit-exceeded (RATE_LIMIT_CODE), which the client never branches on.
 * - Lifecycle, by the injected `now` (share a VirtualClock with the client): launch -> "booting"
 *   with ip null -> after bootMs "active" with `ip` (onActive may change it per instance) ->
 *   terminate -> "terminating" -> after terminateMs "terminated" -> after goneMs gone (404).
 *   Terminating an instance that is already terminating (or terminated) answers 400
 *   global/unknown, as seen in the wild. Unknown ids -> 404 global/object-does-not-exist.
 * - GET/POST /ssh-keys (without public_key: a generated pair, private_key returned once),
 *   DELETE /ssh-keys/{id} (unknown id -> 400 global/invalid-parameters, as the spec lists).
 * - Faults: `failNext` (the next N requests, optionally of one path, answer a status with an
 *   HTML page or an envelope), `failNextLaunchAfterCommit` (the instance is created, the answer
 *   is a 500), `addConsoleInstance` (no name, as launched from the web console), `setStatus`.
 * Every request is logged (method, path, virtual time, whether an Authorization header came,
 * status, body); the key itself is only compared, never stored.
 */
import { randomBytes } from "node:crypto";
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from "node:http";
import type { AddressInfo } from "node:net";
import ssh2 from "ssh2";
import type {
  Instance,
  InstanceStatus,
  InstanceType,
  Region,
  SshKey,
} from "../../src/cloud/lambda/index.js";

export const RATE_LIMIT_CODE = "global/rate-limit-exceeded";
export const REQUEST_INTERVAL_MS = 1000;
export const LAUNCH_INTERVAL_MS = 12_000;

export const REGIONS: Region[] = [
  { name: "us-west-1", description: "California, USA" },
  { name: "us-east-1", description: "Virginia, USA" },
  { name: "us-south-1", description: "Texas, USA" },
  { name: "europe-central-1", description: "Germany" },
  { name: "asia-northeast-1", description: "Tokyo, Japan" },
];

export interface FakeInstanceType extends InstanceType {
  /** Regions with capacity now. */
  regions: string[];
}

export const DEFAULT_INSTANCE_TYPES: FakeInstanceType[] = [
  {
    name: "gpu_1x_h100_pcie",
    description: "1x H100 (80 GB PCIe)",
    gpu_description: "H100 (80 GB PCIe)",
    price_cents_per_hour: 249,
    specs: { vcpus: 26, memory_gib: 200, storage_gib: 1000, gpus: 1 },
    regions: ["us-west-1"],
  },
  {
    name: "gpu_1x_a10",
    description: "1x A10 (24 GB PCIe)",
    gpu_description: "A10 (24 GB PCIe)",
    price_cents_per_hour: 75,
    specs: { vcpus: 30, memory_gib: 200, storage_gib: 1400, gpus: 1 },
    regions: ["us-west-1", "us-east-1"],
  },
  {
    name: "gpu_1x_gh200",
    description: "1x GH200 (96 GB)",
    gpu_description: "GH200 (96 GB)",
    price_cents_per_hour: 149,
    specs: { vcpus: 64, memory_gib: 432, storage_gib: 4096, gpus: 1 },
    regions: ["us-east-1"],
  },
  {
    name: "gpu_8x_h100_sxm5",
    description: "8x H100 (80 GB SXM5)",
    gpu_description: "H100 (80 GB SXM5)",
    price_cents_per_hour: 2392,
    specs: { vcpus: 208, memory_gib: 1800, storage_gib: 24780, gpus: 8 },
    regions: [],
  },
];

export interface FakeLambdaOptions {
  apiKey?: string;
  /** The stand-in's clock (default Date.now): pass a VirtualClock's `now` to share time. */
  now?: () => number;
  instanceTypes?: FakeInstanceType[];
  fileSystems?: { name: string; region: string }[];
  /** Time from launch to "active" (default 60 s). */
  bootMs?: number;
  /** Time from "terminating" to "terminated" (default 15 s). */
  terminateMs?: number;
  /** Time a terminated instance stays listed (default 60 s). */
  goneMs?: number;
  /** The ip an instance gets when it becomes active (default 127.0.0.1). */
  ip?: string;
  rateLimits?: boolean;
  /** Called (and awaited) as an instance becomes active; may change `instance.ip`. */
  onActive?: (instance: Instance) => void | Promise<void>;
}

export interface LoggedRequest {
  method: string;
  /** Path under /api/v1, without the query. */
  path: string;
  /** By the stand-in's clock. */
  at: number;
  hasAuthorization: boolean;
  status: number;
  body: unknown;
}

export interface FaultSpec {
  status: number;
  /** Only requests to this path (under /api/v1); default any. */
  path?: string;
  /** An HTML page (as a proxy sends) instead of an envelope. */
  html?: boolean;
  code?: string;
  message?: string;
}

interface Answer {
  status: number;
  json?: unknown;
  html?: string;
}

interface InstanceRecord {
  instance: Instance;
  /** When the current status began. */
  since: number;
}

export const API_PREFIX = "/api/v1";

export class FakeLambda {
  accountInactive = false;
  billingAddressInvalid = false;
  quotaExceeded = false;
  rateLimits: boolean;
  ip: string;
  onActive: ((instance: Instance) => void | Promise<void>) | undefined;
  readonly requests: LoggedRequest[] = [];

  readonly #apiKey: string;
  readonly #now: () => number;
  readonly #types: Map<string, InstanceType>;
  readonly #capacity = new Map<string, Set<string>>();
  readonly #fileSystems: { name: string; region: string }[];
  readonly #bootMs: number;
  readonly #terminateMs: number;
  readonly #goneMs: number;
  readonly #instances = new Map<string, InstanceRecord>();
  #keys: SshKey[] = [];
  #faults: { spec: FaultSpec; left: number }[] = [];
  #launchCommitFaults: number[] = [];
  #addresses = 0;
  #lastAccepted = Number.NEGATIVE_INFINITY;
  #lastLaunch = Number.NEGATIVE_INFINITY;
  #server: Server | undefined;
  #url: string | undefined;

  constructor(options: FakeLambdaOptions = {}) {
    this.#apiKey = options.apiKey ?? "fake-lambda-api-key";
    this.#now = options.now ?? Date.now;
    const types = options.instanceTypes ?? DEFAULT_INSTANCE_TYPES;
    this.#types = new Map(types.map(({ regions: _, ...type }) => [type.name, type]));
    for (const type of types) this.setCapacity(type.name, type.regions);
    this.#fileSystems = options.fileSystems ?? [];
    this.#bootMs = options.bootMs ?? 60_000;
    this.#terminateMs = options.terminateMs ?? 15_000;
    this.#goneMs = options.goneMs ?? 60_000;
    this.ip = options.ip ?? "127.0.0.1";
    this.rateLimits = options.rateLimits ?? true;
    this.onActive = options.onActive;
  }

  /** The base URL, ending in /api/v1. */
  get url(): string {
    if (this.#url === undefined) throw new Error("FakeLambda: call start() first");
    return this.#url;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        res.destroy(error instanceof Error ? error : new Error(String(error)));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.#server = server;
    this.#url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${API_PREFIX}`;
    return this;
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  setCapacity(typeName: string, regions: readonly string[]): void {
    this.#capacity.set(typeName, new Set(regions));
  }

  /** The next `times` requests (to `spec.path`, if given) answer with this failure. */
  failNext(times: number, spec: FaultSpec): void {
    this.#faults.push({ spec, left: times });
  }

  /** The next launch creates its instance, then answers `status` as if it had failed. */
  failNextLaunchAfterCommit(status = 500): void {
    this.#launchCommitFaults.push(status);
  }

  /** An instance as launched from the web console: no name. */
  addConsoleInstance({
    type = "gpu_1x_a10",
    region = "us-west-1",
    status = "active",
  }: {
    type?: string;
    region?: string;
    status?: InstanceStatus;
  } = {}): Instance {
    const record = this.#create(this.#typeOrThrow(type), regionOrThrow(region), {});
    record.instance.status = status;
    if (status === "active") this.#giveAddress(record.instance);
    return structuredClone(record.instance);
  }

  setStatus(id: string, status: InstanceStatus): void {
    const record = this.#instances.get(id);
    if (record === undefined) throw new Error(`FakeLambda: no instance ${id}`);
    record.instance.status = status;
    record.since = this.#now();
  }

  /** A copy of the instance as the stand-in holds it now (statuses advance on requests only). */
  instance(id: string): Instance | undefined {
    const record = this.#instances.get(id);
    return record === undefined ? undefined : structuredClone(record.instance);
  }

  instances(): Instance[] {
    return [...this.#instances.values()].map((record) => structuredClone(record.instance));
  }

  /** Registers a key directly (no request logged); a generated one when no public key given. */
  addSshKey(name: string, publicKey?: string): SshKey {
    const key = { id: newId(), name, public_key: publicKey ?? generateKeyPair().public_key };
    this.#keys.push(key);
    return { ...key };
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const path = url.pathname.startsWith(API_PREFIX)
      ? url.pathname.slice(API_PREFIX.length)
      : url.pathname;
    const entry: LoggedRequest = {
      method: req.method ?? "GET",
      path,
      at: this.#now(),
      hasAuthorization: req.headers.authorization !== undefined,
      status: 0,
      body: text === "" ? undefined : parseJson(text),
    };
    this.requests.push(entry);
    let answer: Answer;
    try {
      answer = await this.#answer(entry, req.headers.authorization);
    } catch (error) {
      answer = failure(500, "global/internal-error", `stand-in failure: ${String(error)}`);
    }
    entry.status = answer.status;
    if (answer.html !== undefined) {
      res.writeHead(answer.status, { "Content-Type": "text/html" }).end(answer.html);
    } else {
      res
        .writeHead(answer.status, { "Content-Type": "application/json" })
        .end(JSON.stringify(answer.json));
    }
  }

  async #answer(request: LoggedRequest, authorization: string | undefined): Promise<Answer> {
    const fault = this.#takeFault(request.path);
    if (fault !== undefined) return fault;
    if (!this.#authorized(authorization)) {
      return failure(
        401,
        "global/invalid-api-key",
        "API key was invalid, expired, or deleted.",
        "Check your API key or create a new one, then try again.",
      );
    }
    if (this.accountInactive) {
      return failure(403, "global/account-inactive", "Your account is inactive.");
    }
    const launching = request.method === "POST" && request.path === "/instance-operations/launch";
    const now = this.#now();
    if (this.rateLimits) {
      if (now - this.#lastAccepted < REQUEST_INTERVAL_MS) return tooMany();
      if (launching && now - this.#lastLaunch < LAUNCH_INTERVAL_MS) return tooMany();
    }
    this.#lastAccepted = now;
    if (launching) this.#lastLaunch = now;
    await this.#advanceLifecycles();
    return this.#route(request.method, request.path, request.body);
  }

  #route(method: string, path: string, body: unknown): Answer {
    const key = `${method} ${path}`;
    if (key === "GET /instance-types") return ok(this.#instanceTypes());
    if (key === "GET /instances") {
      return ok([...this.#instances.values()].map((record) => record.instance));
    }
    if (key === "POST /instance-operations/launch") return this.#launch(body);
    if (key === "POST /instance-operations/terminate") return this.#terminate(body);
    if (key === "GET /ssh-keys") return ok(this.#keys);
    if (key === "POST /ssh-keys") return this.#addKey(body);
    const [, collection, id] = /^\/(instances|ssh-keys)\/([^/]+)$/.exec(path) ?? [];
    if (method === "GET" && collection === "instances" && id !== undefined) {
      const record = this.#instances.get(decodeURIComponent(id));
      return record === undefined ? noSuchInstance() : ok(record.instance);
    }
    if (method === "DELETE" && collection === "ssh-keys" && id !== undefined) {
      const before = this.#keys.length;
      this.#keys = this.#keys.filter((k) => k.id !== decodeURIComponent(id));
      return this.#keys.length < before ? ok({}) : invalid(`SSH key ${id} does not exist.`);
    }
    return failure(404, "global/object-does-not-exist", `No route for ${method} ${path}.`);
  }

  #instanceTypes(): Record<string, unknown> {
    const data: Record<string, unknown> = {};
    for (const type of this.#types.values()) {
      const regions = this.#capacity.get(type.name) ?? new Set();
      data[type.name] = {
        instance_type: type,
        regions_with_capacity_available: REGIONS.filter((r) => regions.has(r.name)),
      };
    }
    return data;
  }

  #launch(body: unknown): Answer {
    if (!isObject(body)) return invalid("The request body must be a JSON object.");
    const type = this.#types.get(String(body.instance_type_name));
    if (type === undefined) return invalid(`Unknown instance type: ${body.instance_type_name}.`);
    const region = REGIONS.find((r) => r.name === body.region_name);
    if (region === undefined) return invalid(`Unknown region: ${body.region_name}.`);
    const keys = body.ssh_key_names;
    if (!Array.isArray(keys) || keys.length !== 1) {
      return invalid("Exactly one SSH key name must be specified.");
    }
    if (!this.#keys.some((k) => k.name === keys[0])) {
      return invalid(`SSH key ${String(keys[0])} does not exist.`);
    }
    if (body.name !== undefined && (typeof body.name !== "string" || body.name.length > 64)) {
      return invalid("name must be a string of at most 64 characters.");
    }
    const fileSystems = body.file_system_names ?? [];
    if (!Array.isArray(fileSystems)) return invalid("file_system_names must be a list.");
    for (const name of fileSystems) {
      const fs = this.#fileSystems.find((f) => f.name === name);
      if (fs === undefined) {
        return failure(404, "global/object-does-not-exist", `File system ${name} not found.`);
      }
      if (fs.region !== region.name) {
        return failure(
          400,
          "instance-operations/launch/file-system-in-wrong-region",
          `File system ${name} is in ${fs.region}, not ${region.name}.`,
        );
      }
    }
    if (this.billingAddressInvalid) {
      return failure(403, "global/invalid-address", "Your billing address is invalid.");
    }
    if (this.quotaExceeded) {
      return failure(400, "global/quota-exceeded", "Quota exceeded.");
    }
    if (!this.#capacity.get(type.name)?.has(region.name)) {
      return failure(
        400,
        "instance-operations/launch/insufficient-capacity",
        "Not enough capacity to fulfill launch request.",
      );
    }
    const record = this.#create(type, region, body);
    const commitFault = this.#launchCommitFaults.shift();
    if (commitFault !== undefined) {
      return failure(commitFault, "global/internal-error", "An internal server error occurred.");
    }
    return ok({ instance_ids: [record.instance.id] });
  }

  #terminate(body: unknown): Answer {
    const ids = isObject(body) ? body.instance_ids : undefined;
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === "string")) {
      return invalid("instance_ids must be a non-empty list of instance ids.");
    }
    const records = ids.map((id) => this.#instances.get(id));
    if (records.some((record) => record === undefined)) return noSuchInstance();
    const found = records as InstanceRecord[];
    if (
      found.some((r) => r.instance.status === "terminating" || r.instance.status === "terminated")
    ) {
      return failure(400, "global/unknown", "An unknown error occurred.");
    }
    for (const record of found) {
      record.instance.status = "terminating";
      record.since = this.#now();
    }
    return ok({ terminated_instances: found.map((record) => record.instance) });
  }

  #addKey(body: unknown): Answer {
    const name = isObject(body) ? body.name : undefined;
    if (typeof name !== "string" || name.length < 1 || name.length > 64) {
      return invalid("name must be a string of 1 to 64 characters.");
    }
    if (this.#keys.some((k) => k.name === name)) {
      return invalid(`An SSH key named ${name} already exists.`);
    }
    const publicKey = isObject(body) ? body.public_key : undefined;
    if (publicKey === undefined) {
      const pair = generateKeyPair();
      const key = { id: newId(), name, public_key: pair.public_key };
      this.#keys.push(key);
      return ok({ ...key, private_key: pair.private_key });
    }
    if (typeof publicKey !== "string" || publicKey.length < 1 || publicKey.length > 4096) {
      return invalid("public_key must be a string of 1 to 4096 characters.");
    }
    return ok(this.addSshKey(name, publicKey));
  }

  #create(type: InstanceType, region: Region, body: Record<string, unknown>): InstanceRecord {
    const instance: Instance = {
      id: newId(),
      ip: null,
      private_ip: null,
      status: "booting",
      ssh_key_names: Array.isArray(body.ssh_key_names) ? body.ssh_key_names.map(String) : [],
      file_system_names: Array.isArray(body.file_system_names)
        ? body.file_system_names.map(String)
        : [],
      region,
      instance_type: type,
      ...(typeof body.name === "string" ? { name: body.name } : {}),
      ...(Array.isArray(body.tags) ? { tags: body.tags } : {}),
    };
    const record = { instance, since: this.#now() };
    this.#instances.set(instance.id, record);
    return record;
  }

  /** Moves statuses along by the clock; runs before each accepted request. */
  async #advanceLifecycles(): Promise<void> {
    const now = this.#now();
    for (const record of [...this.#instances.values()]) {
      const { instance } = record;
      if (instance.status === "booting" && now >= record.since + this.#bootMs) {
        instance.status = "active";
        record.since += this.#bootMs;
        this.#giveAddress(instance);
        await this.onActive?.(instance);
      }
      if (instance.status === "terminating" && now >= record.since + this.#terminateMs) {
        instance.status = "terminated";
        record.since += this.#terminateMs;
      }
      if (instance.status === "terminated" && now >= record.since + this.#goneMs) {
        this.#instances.delete(instance.id);
      }
    }
  }

  #giveAddress(instance: Instance): void {
    this.#addresses += 1;
    instance.ip = this.ip;
    instance.private_ip = `10.0.${Math.floor(this.#addresses / 250) % 256}.${(this.#addresses % 250) + 2}`;
    instance.hostname = this.ip;
  }

  #authorized(header: string | undefined): boolean {
    if (header === undefined) return false;
    const [scheme, value = ""] = header.split(" ", 2);
    if (scheme === "Bearer") return value === this.#apiKey;
    if (scheme === "Basic") return Buffer.from(value, "base64").toString() === `${this.#apiKey}:`;
    return false;
  }

  #takeFault(path: string): Answer | undefined {
    const fault = this.#faults.find((f) => f.spec.path === undefined || f.spec.path === path);
    if (fault === undefined) return undefined;
    fault.left -= 1;
    if (fault.left <= 0) this.#faults = this.#faults.filter((f) => f !== fault);
    const { status, html, code, message } = fault.spec;
    if (html) {
      const title = `${status} ${STATUS_CODES[status] ?? "Error"}`;
      return {
        status,
        html: `<html><head><title>${title}</title></head><body>${title}</body></html>`,
      };
    }
    const fallback =
      status === 429 ? RATE_LIMIT_CODE : status >= 500 ? "global/internal-error" : "global/unknown";
    return failure(status, code ?? fallback, message ?? "Injected failure.");
  }

  #typeOrThrow(name: string): InstanceType {
    const type = this.#types.get(name);
    if (type === undefined) throw new Error(`FakeLambda: no instance type ${name}`);
    return type;
  }
}

function regionOrThrow(name: string): Region {
  const region = REGIONS.find((r) => r.name === name);
  if (region === undefined) throw new Error(`FakeLambda: no region ${name}`);
  return region;
}

function ok(data: unknown): Answer {
  return { status: 200, json: { data } };
}

function failure(status: number, code: string, message: string, suggestion?: string): Answer {
  return { status, json: { error: { code, message, ...(suggestion ? { suggestion } : {}) } } };
}

function invalid(message: string): Answer {
  return failure(400, "global/invalid-parameters", message);
}

function noSuchInstance(): Answer {
  return failure(404, "global/object-does-not-exist", "Specified instance does not exist.");
}

function tooMany(): Answer {
  return failure(429, RATE_LIMIT_CODE, "Too many requests.", "Slow down and try again.");
}

function newId(): string {
  return randomBytes(16).toString("hex");
}

function generateKeyPair(): { public_key: string; private_key: string } {
  const pair = ssh2.utils.generateKeyPairSync("ed25519");
  return { public_key: pair.public, private_key: pair.private };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
