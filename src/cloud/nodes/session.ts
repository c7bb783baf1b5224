/** What every `deepconf nodes` command opens: the API client, the node records, the host keys. */

import { LambdaClient } from "../lambda/client.js";
import { resolveApiKey } from "../lambda/credentials.js";
import { KnownHosts } from "../ssh/known-hosts.js";
import { type NodesHome, nodesHome } from "./home.js";
import { NodeStore } from "./state.js";

export const DEFAULT_NAME_PREFIX = "deepconf-";

export interface NodesSession {
  home: NodesHome;
  store: NodeStore;
  knownHosts: KnownHosts;
  client: LambdaClient;
  /** Where the API key came from (never the key). */
  keySource: string;
}

export function openNodesSession(
  options: { env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {},
): NodesSession {
  const env = options.env ?? process.env;
  const home = nodesHome(env);
  const { key, source } = resolveApiKey({ env });
  return {
    home,
    store: new NodeStore(home.nodesFile),
    knownHosts: new KnownHosts(home.knownHostsFile),
    client: new LambdaClient({ apiKey: key, baseUrl: env.LAMBDA_API_URL, log: options.log }),
    keySource: source,
  };
}
