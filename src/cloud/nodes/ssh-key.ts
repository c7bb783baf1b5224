/**
 * The SSH key nodes are launched with. Lambda wants the name of a key it knows; we need the
 * private half to log in. Given a file we use it; given nothing we use (and first create) the
 * tool's own ed25519 key. Either way its public half is registered with Lambda when missing.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname } from "node:path";
// ssh2 is CommonJS: Node's ESM loader sees only its default export.
import ssh2 from "ssh2";
import { InputError } from "../../errors.js";
import type { LambdaClient } from "../lambda/client.js";

export interface LocalKey {
  file: string;
  privateKey: Buffer;
  /** "ssh-ed25519 AAAA..." */
  publicKey: string;
}

function readKey(file: string): LocalKey {
  if (!existsSync(file)) {
    throw new InputError(
      `SSH key ${file} does not exist: give --ssh-key-file PATH of a private key`,
    );
  }
  const privateKey = readFileSync(file);
  const parsed = ssh2.utils.parseKey(privateKey);
  if (parsed instanceof Error) {
    const encrypted = /encrypted|passphrase/i.test(parsed.message);
    throw new InputError(
      encrypted
        ? `SSH key ${file} is protected by a passphrase: give a key without one (leave out --ssh-key-file and the tool makes its own)`
        : `SSH key ${file} is not a private key ssh2 can read (${parsed.message})`,
    );
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key === undefined || !key.isPrivateKey()) {
    throw new InputError(`SSH key ${file} holds no private key`);
  }
  const publicKey = `${key.type} ${key.getPublicSSH().toString("base64")}`;
  return { file, privateKey, publicKey };
}

/** The given key file, else the tool's own (created 0600 on first use). */
export function localKey(file: string | undefined, toolKeyFile: string): LocalKey {
  if (file !== undefined) return readKey(file);
  if (!existsSync(toolKeyFile)) {
    mkdirSync(dirname(toolKeyFile), { recursive: true, mode: 0o700 });
    const pair = ssh2.utils.generateKeyPairSync("ed25519", { comment: `deepconf@${hostname()}` });
    writeFileSync(toolKeyFile, pair.private, { mode: 0o600 });
    writeFileSync(`${toolKeyFile}.pub`, `${pair.public}\n`, { mode: 0o644 });
  }
  return readKey(toolKeyFile);
}

/** The first two fields of an OpenSSH public key line: what identifies the key. */
const keyBody = (line: string) => line.trim().split(/\s+/).slice(0, 2).join(" ");

/**
 * The Lambda key name to launch with: `name` when given (it must exist and match the local key,
 * or SSH would be refused after paying for the boot), else a registered key with the same public
 * half, else one registered now as deepconf-HOST-FINGERPRINT.
 */
export async function registeredKeyName(
  client: LambdaClient,
  key: LocalKey,
  name: string | undefined,
  signal?: AbortSignal,
): Promise<string> {
  const keys = await client.listSshKeys(signal);
  const mine = keyBody(key.publicKey);
  if (name !== undefined) {
    const named = keys.find((k) => k.name === name);
    if (named === undefined) {
      const known = keys.map((k) => k.name).join(", ") || "none";
      throw new InputError(
        `Lambda has no SSH key named "${name}" (it has: ${known}): give one of those, or --ssh-key-file alone to register yours`,
      );
    }
    if (keyBody(named.public_key) !== mine) {
      throw new InputError(
        `Lambda's key "${name}" is not the public half of ${key.file}: the node would refuse this tool's login. Give --ssh-key-file with its private key`,
      );
    }
    return name;
  }
  const same = keys.find((k) => keyBody(k.public_key) === mine);
  if (same !== undefined) return same.name;
  const fingerprint = createHash("sha256").update(mine).digest("hex").slice(0, 8);
  const host =
    hostname()
      .replace(/[^A-Za-z0-9-]+/g, "-")
      .slice(0, 32) || "host";
  const added = await client.addSshKey(`deepconf-${host}-${fingerprint}`, key.publicKey, signal);
  return added.name;
}
