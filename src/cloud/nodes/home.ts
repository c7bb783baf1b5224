/**
 * Where `deepconf nodes` keeps what must outlive one command: the record of launched nodes, the
 * pinned host keys and the tool's SSH key. DEEPCONF_HOME moves it (tests, several accounts).
 */
import { homedir } from "node:os";
import { join } from "node:path";

export interface NodesHome {
  dir: string;
  /** Launched nodes (state.ts). */
  nodesFile: string;
  /** Host keys pinned on first contact, per instance id. */
  knownHostsFile: string;
  /** The SSH key the tool generates when none is given. */
  keyFile: string;
}

export function nodesHome(env: NodeJS.ProcessEnv = process.env): NodesHome {
  const dir = env.DEEPCONF_HOME?.trim() || join(homedir(), ".deepconf");
  return {
    dir,
    nodesFile: join(dir, "nodes.json"),
    knownHostsFile: join(dir, "known_hosts.json"),
    keyFile: join(dir, "keys", "id_ed25519"),
  };
}
