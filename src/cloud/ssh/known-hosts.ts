/**
 * Trust on first use for the nodes' SSH host keys. A rented node's key is unknown until it boots,
 * so the first key seen for a host id is pinned and every later connection must offer the same
 * key; a different key is refused (a re-created node with a reused id, or someone in between).
 *
 * The file is OpenSSH-like, one `<host id> <key type> <base64 key>` line per host, so a stale
 * entry can be read and removed by hand. It is written whole (temp file + rename, mode 0600), so
 * a crash never leaves half a file. Host ids are the caller's names (the Lambda instance id, or
 * "127.0.0.1:2222" in tests), not DNS names: a node's IP may be reused by another node.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { InputError } from "../../errors.js";

/** The key's OpenSSH fingerprint, as `ssh-keygen -l` prints it: "SHA256:<base64, no padding>". */
export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "")}`;
}

/** The key type named at the start of an SSH public key blob ("ssh-ed25519", ...). */
function keyType(keyBlob: Buffer): string {
  const length = keyBlob.length >= 4 ? keyBlob.readUInt32BE(0) : -1;
  if (length <= 0 || 4 + length > keyBlob.length) throw new Error("malformed SSH host key blob");
  return keyBlob.subarray(4, 4 + length).toString("latin1");
}

export class HostKeyChangedError extends InputError {
  constructor(
    readonly hostId: string,
    readonly pinnedFingerprint: string,
    readonly offeredFingerprint: string,
    readonly file: string,
  ) {
    super(
      `the SSH host key of ${hostId} changed: pinned ${pinnedFingerprint}, offered ` +
        `${offeredFingerprint}. The connection was refused: either the node was re-created under ` +
        `the same id or someone is intercepting it. If you know the node is new, remove the stale ` +
        `entry (the line starting with "${hostId} " in ${file}) and connect again.`,
    );
  }
}

export class KnownHosts {
  constructor(readonly file: string) {}

  /** "new" (and pinned from now on) when the host id had no key yet; "match" when it is the same. */
  check(hostId: string, keyBlob: Buffer): "new" | "match" {
    validHostId(hostId);
    const hosts = this.read();
    const pinned = hosts.get(hostId);
    const offered = `${keyType(keyBlob)} ${keyBlob.toString("base64")}`;
    if (pinned === offered) return "match";
    if (pinned !== undefined) {
      const pinnedBlob = Buffer.from(pinned.split(" ")[1] ?? "", "base64");
      throw new HostKeyChangedError(
        hostId,
        fingerprint(pinnedBlob),
        fingerprint(keyBlob),
        this.file,
      );
    }
    hosts.set(hostId, offered);
    this.write(hosts);
    return "new";
  }

  /** The pinned "<key type> <base64 key>" of a host id (for ssh(1)'s known_hosts), if any. */
  pinned(hostId: string): string | undefined {
    return this.read().get(hostId);
  }

  /** Drops the pinned key of a host id (a node that is gone for good); no-op when there is none. */
  forget(hostId: string): void {
    const hosts = this.read();
    if (hosts.delete(hostId)) this.write(hosts);
  }

  private read(): Map<string, string> {
    let text: string;
    try {
      text = readFileSync(this.file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return new Map();
      throw error;
    }
    const hosts = new Map<string, string>();
    text.split("\n").forEach((line, index) => {
      const fields = line.trim().split(/\s+/);
      if (fields.length === 1 && fields[0] === "") return;
      const [host, type, key] = fields;
      if (fields.length !== 3 || host === undefined || type === undefined || key === undefined) {
        throw new InputError(`${this.file}:${index + 1}: expected "<host id> <key type> <key>"`);
      }
      hosts.set(host, `${type} ${key}`);
    });
    return hosts;
  }

  private write(hosts: Map<string, string>): void {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const text = [...hosts].map(([host, key]) => `${host} ${key}\n`).join("");
    const temp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temp, text, { mode: 0o600 });
    renameSync(temp, this.file);
  }
}

/** Host ids are one word of the file: no whitespace, never empty. */
function validHostId(hostId: string): void {
  if (hostId === "" || /\s/.test(hostId)) {
    throw new InputError(`host id ${JSON.stringify(hostId)} must be one word (no whitespace)`);
  }
}
