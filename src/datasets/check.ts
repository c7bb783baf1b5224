/**
 * `deepconf datasets check`: can this machine read a benchmark, and if not, what exactly to do.
 * It asks the hub who the token belongs to (GET /api/whoami-v2), reads the dataset's metadata
 * (public even for gated datasets), then loads the benchmark the way a run would (through the
 * cache) and reports rows and label rates. The token itself is never part of the report.
 */
import { stat } from "node:fs/promises";
import { basename, extname, resolve } from "node:path";
import { InputError } from "../errors.js";
import {
  EntryNotFoundError,
  GatedRepoError,
  HubAuthError,
  type HubClient,
  HubServerError,
  HubUnreachableError,
  NotInCacheError,
  RateLimitError,
  RepoNotFoundError,
  type RepoRef,
  RevisionNotFoundError,
  repoWebUrl,
} from "../hf/index.js";
import { TOKEN_SETTINGS_URL } from "../hf/settings.js";
import { hubClientFor, loadHubBenchmark } from "./hub.js";
import { loadLocalBenchmark } from "./local.js";
import { parseBenchmarkSpec } from "./registry.js";
import { loadSample } from "./sample/index.js";
import type { LoadBenchmarkOptions, LoadedBenchmark } from "./types.js";
import { describeReasons } from "./values.js";

export type Access =
  | "ok"
  | "no-token"
  | "terms-not-accepted"
  | "token-invalid"
  | "not-found"
  | "rate-limited"
  | "unreachable"
  | "not-cached"
  | "error";

export interface TokenCheck {
  set: boolean;
  /** null: not checked (offline, or the hub could not be asked). */
  valid: boolean | null;
  /** The account's name, from whoami. */
  user: string | null;
  /** "read", "write" or "fineGrained". */
  role: string | null;
  /** Why it could not be checked. */
  problem: string | null;
}

export interface LabelRate {
  name: string;
  rule: string;
  positive: number;
  /** Items with a value for it. */
  total: number;
  rate: number | null;
}

/** The documented `datasets check --json` document (snake_case, like the other commands'). */
export interface DatasetCheck {
  spec: string;
  benchmark: string;
  ok: boolean;
  access: Access;
  /** What went wrong, in the hub client's words; null when ok. */
  problem: string | null;
  /** Whether only the cache was used (--offline, HF_HUB_OFFLINE). */
  offline: boolean;
  /** null: the benchmark needs no hub (sample, local files). */
  token: TokenCheck | null;
  dataset: {
    repo: string;
    url: string;
    /** false, "auto" or "manual"; null when the metadata could not be read. */
    gated: false | string | null;
    revision: string;
    sha: string | null;
  } | null;
  license: string | null;
  files: { path: string; bytes: number | null }[];
  rows: {
    total: number;
    usable: number;
    skipped: number;
    skipped_reasons: Record<string, number>;
  } | null;
  labels: LabelRate[];
  todo: string[];
  notes: string[];
}

function rate(name: string, rule: string, values: (boolean | null | undefined)[]): LabelRate {
  const known = values.filter((value): value is boolean => typeof value === "boolean");
  const positive = known.filter(Boolean).length;
  return {
    name,
    rule,
    positive,
    total: known.length,
    rate: known.length === 0 ? null : positive / known.length,
  };
}

function labelRates(
  loaded: LoadedBenchmark,
  rules: { adversarial?: string; reference?: string },
): LabelRate[] {
  const { items } = loaded;
  const rates = [
    rate(
      "should refuse",
      loaded.source.labelRule ?? "label",
      items.map((item) => item.shouldRefuse),
    ),
  ];
  const adversarial = items.map((item) => item.adversarial);
  if (rules.adversarial || adversarial.some((value) => typeof value === "boolean")) {
    rates.push(rate("adversarial", rules.adversarial ?? "adversarial", adversarial));
  }
  if (rules.reference) {
    const labels = items.map((item) => item.reference?.refusalLabel);
    rates.push(
      rate(
        "reference refusals",
        `${rules.reference} == "refusal"`,
        labels.map((label) => (label ? label === "refusal" : null)),
      ),
    );
  }
  return rates;
}

function rowsOf(loaded: LoadedBenchmark): DatasetCheck["rows"] {
  return {
    total: loaded.available + loaded.skipped.count,
    usable: loaded.available,
    skipped: loaded.skipped.count,
    skipped_reasons: loaded.skipped.reasons,
  };
}

function isHubTrouble(error: InputError): boolean {
  return (
    error instanceof HubUnreachableError ||
    error instanceof HubServerError ||
    error instanceof RateLimitError
  );
}

/** Who the token belongs to; never throws for hub trouble (it is reported instead). */
async function checkToken(client: HubClient, repo: RepoRef, offline: boolean): Promise<TokenCheck> {
  const set = client.http.authenticated;
  const none = { user: null, role: null };
  if (!set) return { set, valid: null, ...none, problem: null };
  if (offline) return { set, valid: null, ...none, problem: "offline" };
  try {
    const response = await client.http.get(
      `${client.endpoint}/api/whoami-v2`,
      { repo },
      {
        allow: [401],
      },
    );
    if (response.status === 401) {
      await response.cancel();
      return { set, valid: false, ...none, problem: null };
    }
    // A body we cannot read still means the token was accepted: the account name is a nicety.
    const json = (await response.json().catch(() => ({}))) as {
      name?: unknown;
      auth?: { accessToken?: { role?: unknown } };
    };
    const role = json.auth?.accessToken?.role;
    return {
      set,
      valid: true,
      user: typeof json.name === "string" ? json.name : null,
      role: typeof role === "string" ? role : null,
      problem: null,
    };
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    return {
      set,
      valid: null,
      ...none,
      problem: isHubTrouble(error) ? "the hub could not be asked" : error.message,
    };
  }
}

function accessOf(error: InputError, token: TokenCheck | null): Access {
  if (error instanceof GatedRepoError)
    return error.status === 403 ? "terms-not-accepted" : "no-token";
  if (error instanceof HubAuthError && error.status === 401 && token?.set) return "token-invalid";
  if (
    error instanceof RepoNotFoundError ||
    error instanceof RevisionNotFoundError ||
    error instanceof EntryNotFoundError
  ) {
    return "not-found";
  }
  if (error instanceof RateLimitError) return "rate-limited";
  if (error instanceof HubUnreachableError || error instanceof HubServerError) return "unreachable";
  if (error instanceof NotInCacheError) return "not-cached";
  return "error";
}

interface TodoContext {
  name: string;
  url: string | null;
  gated: false | string | null;
  token: TokenCheck | null;
  cacheDir: string | null;
}

function todoFor(access: Access, context: TodoContext): string[] {
  const { name, url, gated, token } = context;
  const again = `Run \`deepconf datasets check ${name}\` again.`;
  const review =
    gated === "manual"
      ? "requests are reviewed by hand, which can take a while"
      : "access is granted as soon as you accept";
  switch (access) {
    case "ok":
      return [];
    case "no-token":
      return [
        `Accept the terms at ${url} (log in to huggingface.co first; ${review}).`,
        `Create a read token at ${TOKEN_SETTINGS_URL} for that account and set it: export HF_TOKEN=hf_...`,
        again,
      ];
    case "terms-not-accepted": {
      const who = token?.user
        ? `as ${token.user}, the account of your HF_TOKEN`
        : "as the account of your HF_TOKEN";
      const steps = [`Accept the terms at ${url} while logged in ${who} (${review}).`];
      if (token?.role === "fineGrained") {
        steps.push(
          `If you already accepted them: your token is fine-grained; give it the permission "Read access to contents of all public gated repos you can access" at ${TOKEN_SETTINGS_URL}, or use a read token.`,
        );
      }
      return [...steps, again];
    }
    case "token-invalid":
      return [
        `HF_TOKEN is invalid or expired: create a new read token at ${TOKEN_SETTINGS_URL} and set HF_TOKEN to it${gated === false ? ", or unset HF_TOKEN (this dataset is public)" : ""}.`,
        again,
      ];
    case "not-found":
      return [
        `Check the revision after @ (a branch, a tag or a full commit sha) and HF_ENDPOINT if it is set${url ? `; the dataset's page is ${url}` : ""}.`,
      ];
    case "rate-limited":
      return [
        `Wait as long as the hub asks (see the problem above), then run again${token?.set ? "" : "; setting HF_TOKEN raises the limits"}.`,
      ];
    case "unreachable":
      return [
        "Check the network connection (and HF_ENDPOINT if it is set), then run again; a copy already in the cache can be used with --offline (or HF_HUB_OFFLINE=1).",
      ];
    case "not-cached":
      return [
        `Run once with network access (without --offline and HF_HUB_OFFLINE) to download it into the cache${context.cacheDir ? ` (${context.cacheDir})` : ""}.`,
      ];
    case "error":
      return ["Fix the problem above and run again."];
  }
}

/** The document's keys in their documented order. */
function ordered(check: DatasetCheck): DatasetCheck {
  return {
    spec: check.spec,
    benchmark: check.benchmark,
    ok: check.ok,
    access: check.access,
    problem: check.problem,
    offline: check.offline,
    token: check.token,
    dataset: check.dataset,
    license: check.license,
    files: check.files,
    rows: check.rows,
    labels: check.labels,
    todo: check.todo,
    notes: check.notes,
  };
}

/**
 * Checks one benchmark spec. An unknown name or a bad spec throws (InputError); everything about
 * access (token, terms, network, cache) is reported in the result instead.
 */
export async function checkDataset(
  spec: string,
  options: LoadBenchmarkOptions = {},
): Promise<DatasetCheck> {
  return ordered(await check(spec, options));
}

async function check(spec: string, options: LoadBenchmarkOptions): Promise<DatasetCheck> {
  const parsed = parseBenchmarkSpec(spec);
  const loadOptions: LoadBenchmarkOptions = { ...options, limit: undefined };
  const base = {
    spec: parsed.spec,
    offline: false,
    token: null,
    dataset: null,
    files: [] as DatasetCheck["files"],
    labels: [] as LabelRate[],
    notes: [] as string[],
  };

  if (parsed.kind === "sample") {
    const loaded = loadSample();
    return {
      ...base,
      benchmark: "sample",
      ok: true,
      access: "ok",
      problem: null,
      license: loaded.source.license ?? null,
      rows: rowsOf(loaded),
      labels: labelRates(loaded, { adversarial: "wrapped in a jailbreak framing" }),
      todo: [],
    };
  }

  if (parsed.kind === "local") {
    const path = resolve(parsed.path);
    const bytes = await stat(path).then(
      (info) => info.size,
      () => null,
    );
    const common = { ...base, files: [{ path, bytes }], license: null };
    try {
      const loaded = await loadLocalBenchmark(parsed.format, parsed.path, loadOptions);
      return {
        ...common,
        benchmark: loaded.name,
        ok: true,
        access: "ok",
        problem: null,
        rows: rowsOf(loaded),
        labels: labelRates(loaded, {}),
        todo: [],
        notes: loaded.notes,
      };
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      return {
        ...common,
        benchmark: basename(path, extname(path)),
        ok: false,
        access: "error",
        problem: error.message,
        rows: null,
        todo: todoFor("error", {
          name: parsed.spec,
          url: null,
          gated: null,
          token: null,
          cacheDir: null,
        }),
      };
    }
  }

  const { benchmark, config, split } = parsed;
  const repo: RepoRef = { type: "dataset", id: benchmark.repo };
  const url = repoWebUrl(repo);
  const revision = parsed.revision ?? benchmark.revision;
  const client = hubClientFor(loadOptions);
  const token = await checkToken(client, repo, client.offline);
  const notes: string[] = [];
  const dataset: NonNullable<DatasetCheck["dataset"]> = {
    repo: benchmark.repo,
    url,
    gated: null,
    revision,
    sha: null,
  };
  let files: DatasetCheck["files"] = [];
  let metadataError: InputError | null = null;
  if (!client.offline) {
    // Metadata is public even for gated datasets; an invalid token would spoil it, so ask
    // without one then.
    const metadataClient =
      token.valid === false
        ? hubClientFor({ ...loadOptions, hub: { ...loadOptions.hub, token: null } })
        : client;
    try {
      const info = await metadataClient.revisionInfo(repo, revision);
      dataset.gated = info.gated;
      dataset.sha = info.sha;
      try {
        const sizes = new Map(info.siblings.map((sibling) => [sibling.rfilename, sibling.size]));
        files = benchmark
          .files(info, config, split)
          .map((path) => ({ path, bytes: sizes.get(path) ?? null }));
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        metadataError = error;
      }
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      metadataError = error;
    }
  }

  const common = {
    ...base,
    offline: client.offline,
    benchmark: benchmark.name,
    token,
    dataset,
    license: benchmark.license,
    files,
  };
  const failed = (error: InputError): DatasetCheck => {
    const access = accessOf(error, token);
    return {
      ...common,
      ok: false,
      access,
      problem: error.message,
      rows: null,
      todo: todoFor(access, {
        name: parsed.spec,
        url,
        gated: dataset.gated,
        token,
        cacheDir: client.cache.root,
      }),
      notes,
    };
  };
  // The hub down or rate-limiting: a cached copy may still serve, as it would for a run.
  if (metadataError && !isHubTrouble(metadataError)) return failed(metadataError);
  try {
    const loaded = await loadHubBenchmark(parsed, parsed.spec, loadOptions, client);
    dataset.sha = loaded.source.sha ?? dataset.sha;
    if (dataset.gated && !token.set && !client.offline) {
      notes.push(
        `read from the cache: downloading it afresh (another machine, a new commit) needs HF_TOKEN of an account that accepted the terms at ${url}`,
      );
    }
    if (files.length === 0)
      files = (loaded.source.files ?? []).map((path) => ({ path, bytes: null }));
    return {
      ...common,
      files,
      ok: true,
      access: "ok",
      problem: null,
      rows: rowsOf(loaded),
      labels: labelRates(loaded, {
        adversarial: benchmark.adversarialRule,
        reference: benchmark.referenceRule,
      }),
      todo: [],
      notes: [...notes, ...loaded.notes],
    };
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    return failed(error);
  }
}

function size(bytes: number | null): string {
  if (bytes === null) return "size unknown";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

function tokenLine(token: TokenCheck | null, check: DatasetCheck): string {
  if (token === null) return "not needed (no download)";
  const gated = check.dataset?.gated;
  if (!token.set) {
    if (gated === false) return "not set (not needed: the dataset is public)";
    return gated ? "not set (needed: the dataset is gated)" : "not set";
  }
  if (token.valid === true) {
    const who = token.user ? `signed in as ${token.user}` : "accepted by the hub";
    return `set and valid: ${who}${token.role ? ` (${token.role} token)` : ""}`;
  }
  if (token.valid === false) return "set, but the hub rejects it (401): invalid or expired";
  return `set, not checked (${token.problem ?? "unknown"})`;
}

function gatedText(gated: false | string | null, offline: boolean): string {
  if (gated === null) {
    return offline
      ? "not asked (offline)"
      : "access rules unknown (its metadata could not be read)";
  }
  if (gated === false) return "public";
  return gated === "manual"
    ? "gated: accept the terms on its page; requests are reviewed by hand"
    : "gated: accept the terms on its page; access is granted at once";
}

const ACCESS_TEXT: Record<Access, string> = {
  ok: "OK: the files can be read",
  "no-token": "NO: the dataset is gated and no token was sent",
  "terms-not-accepted": "NO: the token's account has not been granted access (terms not accepted)",
  "token-invalid": "NO: the hub rejects HF_TOKEN",
  "not-found": "NO: not found on the hub",
  "rate-limited": "NO: the hub is rate-limiting requests",
  unreachable: "NO: the hub cannot be reached",
  "not-cached": "NO: offline, and the cache has no copy",
  error: "NO: the data cannot be read",
};

/** One screen of plain text. */
export function formatCheck(check: DatasetCheck): string {
  const lines: string[] = [];
  const row = (label: string, text: string) => lines.push(`${label.padEnd(10)}  ${text}`);
  const more = (text: string) => lines.push(`${" ".repeat(12)}${text}`);
  lines.push(`deepconf datasets check ${check.spec}`, "");
  row("benchmark", `${check.benchmark}${check.license ? ` (license ${check.license})` : ""}`);
  row("HF_TOKEN", tokenLine(check.token, check));
  if (check.dataset) {
    const { dataset } = check;
    row("dataset", `${dataset.url}: ${gatedText(dataset.gated, check.offline)}`);
    row("revision", `${dataset.revision}${dataset.sha ? ` = commit ${dataset.sha}` : ""}`);
  }
  row("access", ACCESS_TEXT[check.access]);
  check.files.forEach((file, i) => {
    (i === 0 ? (text: string) => row("files", text) : more)(`${file.path} (${size(file.bytes)})`);
  });
  if (check.rows) {
    const { total, usable, skipped, skipped_reasons } = check.rows;
    row(
      "rows",
      `${total}: ${usable} usable` +
        (skipped > 0 ? `, ${skipped} skipped (${describeReasons(skipped_reasons)})` : ""),
    );
  } else {
    row("rows", "unknown (the data could not be read)");
  }
  check.labels.forEach((label, i) => {
    const percent = label.rate === null ? "-" : `${(label.rate * 100).toFixed(1)}%`;
    const rule = label.rule === label.name ? "" : ` (${label.rule})`;
    const text = `${label.name}${rule}: ${label.positive} of ${label.total} (${percent})`;
    (i === 0 ? (line: string) => row("labels", line) : more)(text);
  });
  for (const note of check.notes) row("note", note);
  lines.push("");
  if (check.ok) {
    lines.push("Ready to use.");
  } else {
    if (check.problem) lines.push(`Problem: ${check.problem}`, "");
    lines.push("What to do:");
    check.todo.forEach((step, i) => {
      lines.push(`  ${i + 1}. ${step}`);
    });
  }
  return `${lines.join("\n")}\n`;
}
