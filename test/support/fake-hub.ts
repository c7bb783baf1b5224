/**
 * A stand-in for huggingface.co on 127.0.0.1, answering with the hub's status codes, headers and
 * JSON shapes, so the hub client is tested over real HTTP on machines with no route to the hub:
 *
 * - GET /api/{models|datasets}/{id}/revision/{rev}[?blobs=true]: id, sha, siblings (with size,
 *   blobId and lfs {sha256, size} under blobs=true), gated, private. Metadata of gated repos is
 *   public, as on the hub; only downloads need the terms accepted.
 * - GET /{id}/resolve/{rev}/{path} (datasets: /datasets/{id}/resolve/...): small files straight
 *   away (ETag = git blob id), LFS files (*.onnx, *_data, *.parquet, ...) as a 302 to a "CDN"
 *   path carrying X-Linked-Size and X-Linked-Etag (the sha256), like the hub's LFS redirects.
 *   Every resolve answer carries X-Repo-Commit. Range requests get 206 / 416.
 * - Errors as the hub sends them: unknown or private repo -> 401 RepoNotFound anonymously, 404
 *   RepoNotFound with a token; gated -> 401 GatedRepo without a token, 403 GatedRepo with one
 *   whose account has not accepted the terms; unknown revision -> 404 RevisionNotFound; unknown
 *   file -> 404 EntryNotFound; unknown token -> 401 "Invalid credentials in Authorization header".
 * - GET /api/whoami-v2: who a token belongs to ({type, name, auth: {accessToken: {role}}}); 401
 *   "Invalid credentials in Authorization header" without a token or with an unknown one.
 * - Branches besides main (e.g. refs/convert/parquet, where the hub keeps its parquet exports):
 *   `commit(..., branch)` puts a commit there without moving main.
 * - Faults on demand: 429 with Retry-After and RateLimit, 5xx, a connection dropped after K body
 *   bytes, a server ignoring Range, a request that never gets an answer.
 * Every request is recorded, so tests can count what went over the wire.
 */
import { createHash } from "node:crypto";
import {
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

export type FakeRepoType = "model" | "dataset";

export interface FakeRepoSpec {
  id: string;
  type?: FakeRepoType;
  /** Repository path -> content. A .gitattributes is added when missing, as on the hub. */
  files: Record<string, string | Uint8Array>;
  gated?: false | "auto" | "manual";
  private?: boolean;
}

export interface FakeUser {
  token: string;
  /** The account name whoami-v2 answers with (default "user"). */
  name?: string;
  /** The token's role in whoami-v2: "read" (default), "write" or "fineGrained". */
  role?: string;
  /** Ids of gated repositories whose terms this account accepted. */
  accepted?: string[];
  /** Ids of private repositories this account may read. */
  canRead?: string[];
}

export interface FakeHubOptions {
  repos?: FakeRepoSpec[];
  users?: FakeUser[];
  /** Serve LFS content from a second listener (another origin), as the hub's CDN host is. */
  separateCdn?: boolean;
}

export type RequestKind = "api" | "resolve" | "cdn" | "other";

export interface RecordedRequest {
  method: string;
  /** Path and query as received. */
  path: string;
  kind: RequestKind;
  repo?: string;
  revision?: string;
  /** Repository path of the file (for CDN requests, a path holding that content). */
  file?: string;
  range?: string;
  authorization: string | null;
  status: number;
}

interface Blob {
  content: Buffer;
  lfs: boolean;
  sha256: string;
  gitSha1: string;
}

interface Commit {
  sha: string;
  files: Map<string, Blob>;
  date: string;
}

interface Repo {
  id: string;
  type: FakeRepoType;
  gated: false | "auto" | "manual";
  private: boolean;
  commits: Commit[];
  branches: Map<string, string>;
}

type Filter = { kinds?: RequestKind[]; file?: string };

interface Fault<T> {
  remaining: number;
  filter: Filter;
  data: T;
}

const GITATTRIBUTES = [
  "*.onnx filter=lfs diff=lfs merge=lfs -text",
  "*.onnx_data* filter=lfs diff=lfs merge=lfs -text",
  "*.parquet filter=lfs diff=lfs merge=lfs -text",
  "*.safetensors filter=lfs diff=lfs merge=lfs -text",
  "",
].join("\n");

/** Which files the hub keeps in LFS: the weight and data formats, and anything over 10 MB. */
function isLfs(path: string, size: number): boolean {
  return (
    /\.onnx$|\.onnx_data(_\d+)?$|_data(_\d+)?$|\.(parquet|safetensors|bin|gguf)$/.test(path) ||
    size >= 10 * 1024 * 1024
  );
}

function blobOf(path: string, content: string | Uint8Array): Blob {
  const buffer = Buffer.from(content);
  const gitSha1 = createHash("sha1").update(`blob ${buffer.length}\0`).update(buffer).digest("hex");
  return {
    content: buffer,
    lfs: isLfs(path, buffer.length),
    sha256: createHash("sha256").update(buffer).digest("hex"),
    gitSha1,
  };
}

function matches(filter: Filter, record: RecordedRequest): boolean {
  return (
    (filter.kinds === undefined || filter.kinds.includes(record.kind)) &&
    (filter.file === undefined || filter.file === record.file)
  );
}

export class FakeHub {
  readonly requests: RecordedRequest[] = [];
  url = "";
  cdnUrl = "";
  readonly #repos = new Map<string, Repo>();
  readonly #users = new Map<string, FakeUser>();
  readonly #blobs = new Map<string, { blob: Blob; path: string }>();
  readonly #servers: Server[] = [];
  #commitCount = 0;
  #rateLimits: Fault<{ retryAfter: number | null; reset: number }>[] = [];
  #failures: Fault<{ status: number; body: string }>[] = [];
  #drops: Fault<{ afterBytes: number }>[] = [];
  #ignoreRange: Fault<null>[] = [];
  #stalls: Fault<null>[] = [];
  readonly #stalled = new Set<ServerResponse>();

  private constructor(options: FakeHubOptions) {
    for (const user of options.users ?? []) this.#users.set(user.token, { ...user });
    for (const repo of options.repos ?? []) this.addRepo(repo);
  }

  static async start(options: FakeHubOptions = {}): Promise<FakeHub> {
    const hub = new FakeHub(options);
    hub.url = await hub.#listen();
    hub.cdnUrl = options.separateCdn ? await hub.#listen() : hub.url;
    return hub;
  }

  async close(): Promise<void> {
    for (const response of this.#stalled) response.destroy();
    await Promise.all(
      this.#servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
  }

  /** Adds a repository with one commit on main; returns that commit's sha. */
  addRepo(spec: FakeRepoSpec): string {
    const type = spec.type ?? "model";
    const repo: Repo = {
      id: spec.id,
      type,
      gated: spec.gated ?? false,
      private: spec.private ?? false,
      commits: [],
      branches: new Map(),
    };
    this.#repos.set(`${type}:${spec.id}`, repo);
    return this.commit(spec.id, spec.files, type);
  }

  /** A new commit on `branch` (default main) holding exactly `files`; returns its sha. */
  commit(
    id: string,
    files: Record<string, string | Uint8Array>,
    type: FakeRepoType = "model",
    branch = "main",
  ) {
    const repo = this.#repo(type, id);
    const all: Record<string, string | Uint8Array> = { ".gitattributes": GITATTRIBUTES, ...files };
    const blobs = new Map<string, Blob>();
    for (const path of Object.keys(all).sort()) {
      const blob = blobOf(path, all[path] ?? "");
      blobs.set(path, blob);
      if (blob.lfs && !this.#blobs.has(blob.sha256)) this.#blobs.set(blob.sha256, { blob, path });
    }
    const listing = [...blobs].map(([path, blob]) => `${path} ${blob.gitSha1}`).join("\n");
    const sha = createHash("sha1")
      .update(`${type}/${id}\n${++this.#commitCount}\n${listing}`)
      .digest("hex");
    const date = new Date(Date.UTC(2025, 0, 1) + this.#commitCount * 60_000).toISOString();
    repo.commits.push({ sha, files: blobs, date });
    repo.branches.set(branch, sha);
    return sha;
  }

  /** Points a branch (or tag) at a commit. */
  setBranch(id: string, branch: string, sha: string, type: FakeRepoType = "model"): void {
    this.#repo(type, id).branches.set(branch, sha);
  }

  shaOf(id: string, revision = "main", type: FakeRepoType = "model"): string {
    const sha = this.#repo(type, id).branches.get(revision);
    if (!sha) throw new Error(`no branch ${revision} in ${id}`);
    return sha;
  }

  acceptTerms(token: string, id: string): void {
    const user = this.#users.get(token);
    if (!user) throw new Error("unknown token");
    user.accepted = [...(user.accepted ?? []), id];
  }

  /** The next n matching requests get 429 with Retry-After (unless null) and RateLimit t=reset. */
  rateLimitNext(
    n: number,
    options: { retryAfter?: number | null; reset?: number } & Filter = {},
  ): void {
    const { retryAfter = 0, reset = retryAfter ?? 0, ...filter } = options;
    this.#rateLimits.push({ remaining: n, filter, data: { retryAfter, reset } });
  }

  /** The next n matching requests fail with `status` (default 503). */
  failNext(n: number, options: { status?: number; body?: string } & Filter = {}): void {
    const { status = 503, body = "Service Unavailable", ...filter } = options;
    this.#failures.push({ remaining: n, filter, data: { status, body } });
  }

  /** The next n bodies served for `file` stop after `afterBytes` bytes: the socket is destroyed. */
  dropNext(n: number, options: { file: string; afterBytes: number }): void {
    this.#drops.push({
      remaining: n,
      filter: { file: options.file },
      data: { afterBytes: options.afterBytes },
    });
  }

  /** The next n ranged requests for `file` get the whole file with 200, as some proxies do. */
  ignoreRangeNext(n: number, file: string): void {
    this.#ignoreRange.push({ remaining: n, filter: { file }, data: null });
  }

  /** The next n matching requests never get an answer. */
  stallNext(n: number, filter: Filter = {}): void {
    this.#stalls.push({ remaining: n, filter, data: null });
  }

  /** How many recorded requests match every given field. */
  count(filter: Partial<Pick<RecordedRequest, "kind" | "file" | "repo" | "method">> = {}): number {
    return this.requests.filter((record) =>
      Object.entries(filter).every(
        ([key, value]) => record[key as keyof RecordedRequest] === value,
      ),
    ).length;
  }

  async #listen(): Promise<string> {
    const server = createServer((request, response) => this.#handle(request, response));
    this.#servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  #repo(type: FakeRepoType, id: string): Repo {
    const repo = this.#repos.get(`${type}:${id}`);
    if (!repo) throw new Error(`no ${type} ${id} in the fake hub`);
    return repo;
  }

  #take<T>(faults: Fault<T>[], record: RecordedRequest): T | undefined {
    const fault = faults.find((f) => f.remaining > 0 && matches(f.filter, record));
    if (!fault) return undefined;
    fault.remaining--;
    return fault.data;
  }

  #handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? "/", "http://fake");
    const record: RecordedRequest = {
      method: request.method ?? "GET",
      path: `${url.pathname}${url.search}`,
      kind: "other",
      authorization: request.headers.authorization ?? null,
      status: 0,
    };
    if (request.headers.range) record.range = request.headers.range;
    this.requests.push(record);
    const writeHead = response.writeHead.bind(response);
    response.writeHead = ((status: number, ...rest: never[]) => {
      record.status = status;
      return writeHead(status, ...rest);
    }) as typeof response.writeHead;

    const api = /^\/api\/(models|datasets)\/(.+)\/revision\/([^/]+)$/.exec(url.pathname);
    const resolve = /^\/(datasets\/)?(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const cdn = /^\/cdn-lfs\/([0-9a-f]{64})$/.exec(url.pathname);
    let type: FakeRepoType = "model";
    if (api) {
      type = api[1] === "datasets" ? "dataset" : "model";
      Object.assign(record, {
        kind: "api",
        repo: api[2],
        revision: decodeURIComponent(api[3] as string),
      });
    } else if (resolve) {
      type = resolve[1] ? "dataset" : "model";
      Object.assign(record, {
        kind: "resolve",
        repo: resolve[2],
        revision: decodeURIComponent(resolve[3] as string),
        file: (resolve[4] as string).split("/").map(decodeURIComponent).join("/"),
      });
    } else if (cdn) {
      Object.assign(record, { kind: "cdn", file: this.#blobs.get(cdn[1] as string)?.path });
    }

    // Faults come first, as they would from a proxy or the hub's front end.
    if (this.#take(this.#stalls, record) !== undefined) {
      this.#stalled.add(response);
      return;
    }
    const limited = this.#take(this.#rateLimits, record);
    if (limited) {
      const headers: OutgoingHttpHeaders = {
        RateLimit: `"api";r=0;t=${limited.reset}`,
        "RateLimit-Policy": '"fixed window";"api";q=500;w=300',
      };
      if (limited.retryAfter !== null) headers["Retry-After"] = String(limited.retryAfter);
      this.#json(response, 429, { error: "You have been rate-limited." }, headers);
      return;
    }
    const failure = this.#take(this.#failures, record);
    if (failure) {
      response.writeHead(failure.status, { "Content-Type": "text/plain" });
      response.end(failure.body);
      return;
    }

    if (cdn) {
      const entry = this.#blobs.get(cdn[1] as string);
      if (!entry) {
        this.#json(response, 404, { error: "Not Found" });
        return;
      }
      const etag = `"${createHash("md5").update(entry.blob.content).digest("hex")}"`;
      this.#serve(request, response, record, entry.blob.content, {
        "Content-Type": "application/octet-stream",
        ETag: etag,
      });
      return;
    }
    if (url.pathname === "/api/whoami-v2") {
      this.#whoami(response, record);
      return;
    }
    if (!api && !resolve) {
      this.#json(response, 404, { error: "Not Found" });
      return;
    }

    const id = record.repo as string;
    const revision = record.revision as string;
    const token = /^Bearer (.+)$/.exec(record.authorization ?? "")?.[1] ?? null;
    const user = token === null ? null : this.#users.get(token);
    if (token !== null && !user) {
      const error = "Invalid credentials in Authorization header";
      this.#json(response, 401, { error }, { "X-Error-Message": error });
      return;
    }
    const repo = this.#repos.get(`${type}:${id}`);
    if (!repo || (repo.private && !user?.canRead?.includes(id))) {
      // The hub cannot tell an anonymous caller whether a private repository exists: 401.
      const error = "Repository not found";
      this.#json(
        response,
        token === null ? 401 : 404,
        { error },
        {
          "X-Error-Code": "RepoNotFound",
          "X-Error-Message": error,
        },
      );
      return;
    }
    const sha = repo.branches.get(revision) ?? repo.commits.find((c) => c.sha === revision)?.sha;
    const commit = repo.commits.find((c) => c.sha === sha);
    if (!commit) {
      const error = `Invalid rev id: ${revision}`;
      this.#json(
        response,
        404,
        { error },
        {
          "X-Error-Code": "RevisionNotFound",
          "X-Error-Message": error,
        },
      );
      return;
    }

    if (api) {
      this.#json(response, 200, this.#revisionJson(repo, commit, url.searchParams));
      return;
    }

    if (repo.gated && !user?.accepted?.includes(id)) {
      const page = `https://huggingface.co/${type === "dataset" ? "datasets/" : ""}${id}`;
      const error = user
        ? `Access to ${type} ${id} is restricted and you are not in the authorized list. Visit ${page} to ask for access.`
        : `Access to ${type} ${id} is restricted. You must have access to it and be authenticated to access it. Please log in.`;
      this.#json(
        response,
        user ? 403 : 401,
        { error },
        {
          "X-Error-Code": "GatedRepo",
          "X-Error-Message": error,
        },
      );
      return;
    }
    const blob = commit.files.get(record.file as string);
    if (!blob) {
      const error = "Entry not found";
      this.#json(
        response,
        404,
        { error },
        {
          "X-Error-Code": "EntryNotFound",
          "X-Error-Message": error,
        },
      );
      return;
    }
    if (blob.lfs) {
      const location = `${this.cdnUrl}/cdn-lfs/${blob.sha256}?X-Amz-Expires=3600&X-Amz-Signature=fake`;
      const body = `Found. Redirecting to ${location}`;
      response.writeHead(302, {
        Location: location,
        "X-Repo-Commit": commit.sha,
        "X-Linked-Size": String(blob.content.length),
        "X-Linked-Etag": `"${blob.sha256}"`,
        ETag: `"${blob.sha256}"`,
        "Content-Type": "text/plain; charset=utf-8",
        "Content-Length": Buffer.byteLength(body),
      });
      response.end(request.method === "HEAD" ? undefined : body);
      return;
    }
    this.#serve(request, response, record, blob.content, {
      "Content-Type": "text/plain; charset=utf-8",
      ETag: `"${blob.gitSha1}"`,
      "X-Repo-Commit": commit.sha,
    });
  }

  /** GET /api/whoami-v2, in the hub's shape (the fields a client may look at). */
  #whoami(response: ServerResponse, record: RecordedRequest): void {
    const token = /^Bearer (.+)$/.exec(record.authorization ?? "")?.[1] ?? null;
    const user = token === null ? undefined : this.#users.get(token);
    if (!user) {
      const error = "Invalid credentials in Authorization header";
      this.#json(response, 401, { error }, { "X-Error-Message": error });
      return;
    }
    const name = user.name ?? "user";
    this.#json(response, 200, {
      type: "user",
      id: createHash("md5").update(name).digest("hex").slice(0, 24),
      name,
      fullname: name,
      isPro: false,
      orgs: [],
      auth: {
        type: "access_token",
        accessToken: { displayName: "deepconf", role: user.role ?? "read" },
      },
    });
  }

  #revisionJson(repo: Repo, commit: Commit, query: URLSearchParams): Record<string, unknown> {
    const blobs = query.get("blobs") === "true";
    const siblings = [...commit.files].map(([rfilename, blob]) =>
      blobs
        ? {
            rfilename,
            blobId: blob.gitSha1,
            size: blob.content.length,
            ...(blob.lfs
              ? { lfs: { sha256: blob.sha256, size: blob.content.length, pointerSize: 134 } }
              : {}),
          }
        : { rfilename },
    );
    const author = repo.id.includes("/") ? repo.id.split("/")[0] : undefined;
    const common = {
      _id: createHash("md5").update(repo.id).digest("hex").slice(0, 24),
      id: repo.id,
      author,
      sha: commit.sha,
      lastModified: commit.date,
      private: repo.private,
      gated: repo.gated,
      disabled: false,
      downloads: 0,
      likes: 0,
      tags: [],
      cardData: {},
      siblings,
      createdAt: repo.commits[0]?.date,
    };
    return repo.type === "model"
      ? { ...common, modelId: repo.id, library_name: "transformers.js", spaces: [] }
      : common;
  }

  #json(
    response: ServerResponse,
    status: number,
    body: unknown,
    headers: OutgoingHttpHeaders = {},
  ): void {
    const text = JSON.stringify(body);
    response.writeHead(status, {
      "Content-Type": "application/json; charset=utf-8",
      "Content-Length": Buffer.byteLength(text),
      ...headers,
    });
    response.end(text);
  }

  /** A body with Range support, and the drop / ignore-Range faults. */
  #serve(
    request: IncomingMessage,
    response: ServerResponse,
    record: RecordedRequest,
    content: Buffer,
    headers: OutgoingHttpHeaders,
  ): void {
    const size = content.length;
    let start = 0;
    let end = size - 1;
    let status = 200;
    const range = /^bytes=(\d*)-(\d*)$/.exec(request.headers.range ?? "");
    const honour = range && this.#take(this.#ignoreRange, record) === undefined;
    if (range && honour && (range[1] !== "" || range[2] !== "")) {
      if (range[1] === "") {
        start = Math.max(0, size - Number(range[2]));
      } else {
        start = Number(range[1]);
        if (range[2] !== "") end = Math.min(end, Number(range[2]));
      }
      if (start >= size || start > end) {
        response.writeHead(416, { "Content-Range": `bytes */${size}`, "Content-Length": 0 });
        response.end();
        return;
      }
      status = 206;
      headers["Content-Range"] = `bytes ${start}-${end}/${size}`;
    }
    const body = content.subarray(start, end + 1);
    response.writeHead(status, {
      ...headers,
      "Accept-Ranges": "bytes",
      "Content-Length": body.length,
    });
    if (request.method === "HEAD") {
      response.end();
      return;
    }
    const drop = this.#take(this.#drops, record);
    if (drop && drop.afterBytes < body.length) {
      // Wait before cutting: fetch drops body chunks it has queued but not yet handed out when
      // the socket errors, so an instant cut would make the bytes received a matter of timing.
      response.write(body.subarray(0, drop.afterBytes), () => {
        setTimeout(() => response.socket?.destroy(), 100);
      });
      return;
    }
    response.end(body);
  }
}
