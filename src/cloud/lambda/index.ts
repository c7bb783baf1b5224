export { DEFAULT_BASE_URL, LambdaClient, type LambdaClientOptions } from "./client.js";
export { type Clock, systemClock } from "./clock.js";
export { API_KEYS_PAGE, keysFilePath, type ResolvedApiKey, resolveApiKey } from "./credentials.js";
export { LambdaApiError, type LambdaApiErrorInit } from "./errors.js";
export type {
  AddedSshKey,
  Instance,
  InstanceStatus,
  InstanceType,
  InstanceTypeOffer,
  InstanceTypeSpecs,
  LaunchRequest,
  Region,
  SshKey,
  Tag,
} from "./types.js";
