import { InputError } from "../../errors.js";
import { API_KEYS_PAGE } from "./credentials.js";

export interface LambdaApiErrorInit {
  /** The API's error.code, or "network" / "http/<status>" when the answer had no envelope. */
  code: string;
  /** HTTP status, or null when no answer came. */
  status: number | null;
  /** "GET /instances": which call failed. */
  operation: string;
  /** The API's own message (free text: shown, never branched on). */
  apiMessage?: string;
  suggestion?: string;
  /** A launch whose outcome is unknown: the caller must look for the instance by name. */
  maybeLaunched?: boolean;
}

/**
 * A failed Lambda Cloud API call, explained for a researcher. It extends InputError so the CLI
 * prints the message alone, without a stack: these are conditions to act on, not bugs.
 */
export class LambdaApiError extends InputError {
  readonly code: string;
  readonly status: number | null;
  readonly suggestion?: string;
  /** Worth retrying later: rate limited (429), a server error (5xx) or no answer at all. */
  readonly retryable: boolean;
  readonly maybeLaunched: boolean;

  constructor(init: LambdaApiErrorInit) {
    const where = init.status === null ? init.code : `HTTP ${init.status} ${init.code}`;
    super(`${explain(init)} [${where} on ${init.operation}]`);
    this.code = init.code;
    this.status = init.status;
    if (init.suggestion !== undefined) this.suggestion = init.suggestion;
    this.retryable =
      init.status === null || init.status === 429 || (init.status >= 500 && init.status <= 599);
    this.maybeLaunched = init.maybeLaunched ?? false;
  }
}

/** One sentence of what happened and what to do, chosen by code only (messages may change). */
function explain({ code, status, apiMessage }: LambdaApiErrorInit): string {
  const detail = apiMessage ? ` (Lambda says: ${apiMessage})` : "";
  if (status === 429) {
    return (
      "Lambda Cloud is rate-limiting us (about 1 request per second, 1 launch per 12 seconds). " +
      "Wait a minute and try again."
    );
  }
  switch (code) {
    case "global/invalid-api-key":
      return (
        "Lambda Cloud rejected the API key (invalid, expired or deleted). Check LAMBDA_API_KEY " +
        `or the api_key line of ~/.lambda_cloud/lambda_keys, or create a new key at ${API_KEYS_PAGE}.`
      );
    case "global/account-inactive":
      return (
        "Your Lambda Cloud account is inactive. Verify your email address and add a valid " +
        "payment method in the Lambda Cloud dashboard; contact Lambda Support if it stays inactive."
      );
    case "global/invalid-address":
      return (
        "Lambda Cloud refused because the account's billing address is invalid. Correct it in " +
        "the Lambda Cloud dashboard's billing settings, then try again."
      );
    case "global/invalid-parameters":
      return (
        `Lambda Cloud rejected the request's parameters${detail}. Check the instance type, ` +
        "region, SSH key name and instance name (64 characters at most)."
      );
    case "global/quota-exceeded":
      return (
        "Your Lambda Cloud quota is used up (too many instances or GPUs for this account). " +
        "Terminate instances you no longer need, or ask Lambda Support to raise the quota."
      );
    case "instance-operations/launch/insufficient-capacity":
      return (
        "Lambda Cloud has no capacity left for this instance type in this region. Try another " +
        "region (or --any-region), or see what can be launched now with `deepconf nodes types`."
      );
    case "instance-operations/launch/file-system-in-wrong-region":
      return (
        "The requested file system is in another region than the instance. Launch in the file " +
        "system's region, or launch without it."
      );
    case "global/object-does-not-exist":
      return (
        `Lambda Cloud has no such object${detail}: the instance, SSH key or file system may ` +
        "have been terminated or deleted. Check the id or name."
      );
    case "global/unknown":
      return (
        `Lambda Cloud answered with an unspecified error${detail}. If this was a terminate, the ` +
        "instance may already be terminating: re-read its status before calling it a failure."
      );
    case "global/internal-error":
      return (
        "Lambda Cloud had an internal error. Try again in a few minutes; contact Lambda Support " +
        "if it persists."
      );
    case "network":
      return (
        `Could not reach the Lambda Cloud API (${apiMessage ?? "no answer"}). Check the network ` +
        "connection (and LAMBDA_API_URL if set), then try again."
      );
  }
  if (code.startsWith("provider/")) {
    return (
      `A service Lambda Cloud depends on failed${detail}. This is usually temporary: ` +
      "try again shortly."
    );
  }
  const trouble = status !== null && status >= 500;
  if (code.startsWith("http/") && status !== null && status < 300) {
    return (
      `Lambda Cloud answered HTTP ${status} with something other than the API's JSON. ` +
      "Is LAMBDA_API_URL (if set) the API's address?"
    );
  }
  if (code.startsWith("http/")) {
    return (
      `Lambda Cloud answered HTTP ${status} without an error description` +
      (trouble ? "; the service may be having trouble: try again shortly." : ".")
    );
  }
  if (trouble) {
    return `Lambda Cloud answered with a server error${detail}. Try again shortly.`;
  }
  return `Lambda Cloud refused the request${detail}.`;
}
