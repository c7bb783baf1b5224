/**
 * Where the hub is, who we are on it, where files are kept, and whether to go online at all.
 * The variable names follow huggingface_hub, so a machine set up for Python works unchanged.
 */
import { homedir } from "node:os";
import { join } from "node:path";
import { InputError } from "../errors.js";

export const DEFAULT_ENDPOINT = "https://huggingface.co";

/** Pages the user is sent to. They live on huggingface.co even when HF_ENDPOINT is a mirror. */
export const HUB_WEBSITE = "https://huggingface.co";
export const TOKEN_SETTINGS_URL = `${HUB_WEBSITE}/settings/tokens`;

type Env = Record<string, string | undefined>;

/** HF_ENDPOINT without a trailing slash; a mirror may carry a path prefix. */
export function endpointFromEnv(env: Env = process.env): string {
  return normalizeEndpoint(env.HF_ENDPOINT?.trim() || DEFAULT_ENDPOINT, "HF_ENDPOINT");
}

export function normalizeEndpoint(value: string, source = "endpoint"): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError(`${source} "${value}" is not a URL: expected e.g. ${DEFAULT_ENDPOINT}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new InputError(`${source} "${value}" must be an http(s) URL, e.g. ${DEFAULT_ENDPOINT}`);
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, "");
}

/** HF_TOKEN, else the older HUGGING_FACE_HUB_TOKEN; null when neither is set. */
export function tokenFromEnv(env: Env = process.env): string | null {
  const token = env.HF_TOKEN?.trim() || env.HUGGING_FACE_HUB_TOKEN?.trim();
  return token ? token : null;
}

export function cacheDirFromEnv(env: Env = process.env): string {
  return env.DEEPCONF_CACHE?.trim() || join(homedir(), ".cache", "deepconf-safety");
}

/** HF_HUB_OFFLINE takes the values huggingface_hub accepts: 1, true, yes, on. */
export function offlineFromEnv(env: Env = process.env): boolean {
  return /^(1|true|yes|on)$/i.test(env.HF_HUB_OFFLINE?.trim() ?? "");
}
