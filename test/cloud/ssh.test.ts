/**
 * The SSH layer against a real OpenSSH sshd (test/support/sshd.ts): commands, quoting, SFTP,
 * host key pinning and waiting for a node that boots late.
 */
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { RemoteCommandError, SshConnection } from "../../src/cloud/ssh/connection.js";
import { fingerprint, HostKeyChangedError, KnownHosts } from "../../src/cloud/ssh/known-hosts.js";
import { SshNotReadyError, waitForSsh } from "../../src/cloud/ssh/ready.js";
import { quote, shellCommand } from "../../src/cloud/ssh/shell.js";
import { InputError } from "../../src/errors.js";
import { freePort } from "../support/ports.js";
import { type Sshd, startSshd } from "../support/sshd.js";
import { testTempDir } from "../support/tiny-model.js";

/** An ed25519 public key blob as SSH sends it: string "ssh-ed25519", string <32 bytes>. */
function ed25519Blob(): Buffer {
  const field = (data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    return Buffer.concat([length, data]);
  };
  return Buffer.concat([field(Buffer.from("ssh-ed25519")), field(randomBytes(32))]);
}

describe("quote", () => {
  it("leaves plain words bare and single-quotes the rest", () => {
    expect(quote("run-1/out.json")).toBe("run-1/out.json");
    expect(quote("")).toBe("''");
    expect(quote("it's $(x)")).toBe(`'it'\\''s $(x)'`);
    expect(shellCommand(["echo", "a b", "c"])).toBe("echo 'a b' c");
  });

  it("refuses NUL, which no argument can hold", () => {
    expect(() => quote("a\0b")).toThrow(InputError);
  });
});

describe("KnownHosts", () => {
  it("pins the first key, matches it, refuses another one, forgets on request", () => {
    const file = join(testTempDir("known-hosts-"), "nested", "known_hosts");
    const hosts = new KnownHosts(file);
    const key = ed25519Blob();
    expect(hosts.check("i-abc", key)).toBe("new");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8")).toBe(`i-abc ssh-ed25519 ${key.toString("base64")}\n`);
    expect(new KnownHosts(file).check("i-abc", key)).toBe("match");

    const other = ed25519Blob();
    const error = (() => {
      try {
        hosts.check("i-abc", other);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(HostKeyChangedError);
    expect(error).toBeInstanceOf(InputError);
    const message = (error as Error).message;
    expect(message).toContain("i-abc");
    expect(message).toContain(fingerprint(key));
    expect(message).toContain(fingerprint(other));
    expect(message).toContain(file);
    expect(hosts.check("i-def", other)).toBe("new");

    hosts.forget("i-abc");
    expect(hosts.check("i-abc", other)).toBe("new");
    expect(readFileSync(file, "utf8").split("\n").filter(Boolean)).toHaveLength(2);
  });

  it("computes fingerprints the way ssh-keygen -l does", async () => {
    const sshd = await startSshd({ dir: testTempDir() });
    try {
      const hosts = new KnownHosts(join(testTempDir(), "known_hosts"));
      const connection = await SshConnection.connect(sshd, { knownHosts: hosts, hostId: "fp" });
      await connection.close();
      const line = readFileSync(hosts.file, "utf8").trim().split(" ");
      expect(fingerprint(Buffer.from(line[2] ?? "", "base64"))).toBe(sshd.hostKeyFingerprint);
    } finally {
      await sshd.dispose();
    }
  });
});

describe("SshConnection against a real sshd", () => {
  let sshd: Sshd;
  let knownHosts: KnownHosts;
  let ssh: SshConnection;
  let remoteDir: string;

  beforeAll(async () => {
    sshd = await startSshd({ dir: testTempDir() });
    knownHosts = new KnownHosts(join(testTempDir(), "known_hosts"));
    ssh = await SshConnection.connect(sshd, { knownHosts, hostId: "node-1" });
    // The node is this machine: a remote path is also a local one, for checks from here.
    remoteDir = testTempDir("remote-");
  });

  afterAll(async () => {
    await ssh?.close();
    await sshd?.dispose();
  });

  it("runs commands: stdout, stderr and exit codes", async () => {
    const result = await ssh.exec("echo out; echo err >&2; exit 3");
    expect(result).toEqual({ code: 3, signal: null, stdout: "out\n", stderr: "err\n" });
    expect((await ssh.run(["true"])).code).toBe(0);

    const chunks: string[] = [];
    await ssh.run(["printf", "%s", "streamed"], { onStdout: (chunk) => chunks.push(chunk) });
    expect(chunks.join("")).toBe("streamed");

    await expect(ssh.run(["echo", "a\0b"])).rejects.toThrow(InputError);

    const failing = ssh.check(["sh", "-c", "echo first >&2; echo why it failed >&2; exit 7"]);
    await expect(failing).rejects.toBeInstanceOf(RemoteCommandError);
    await expect(failing).rejects.toThrow(/exit status 7[\s\S]*why it failed/);
  });

  it("hands a secret over stdin without it appearing on any command line", async () => {
    const secret = `s3cr3t-${randomBytes(8).toString("hex")}`;
    // Every process's command line on the node while the secret is held: none may contain it.
    const script = [
      `IFS= read -r secret`,
      `printf '%s' "$secret" | sha256sum`,
      `for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < "$f" 2>/dev/null; echo; done`,
    ].join("\n");
    const result = await ssh.exec(script, { stdin: `${secret}\n` });
    const [hashLine, ...cmdlines] = result.stdout.split("\n");
    expect(hashLine?.split(" ")[0]).toBe(createHash("sha256").update(secret).digest("hex"));
    expect(cmdlines.join("\n")).toContain("IFS= read -r secret"); // our own shell is listed
    expect(result.stdout).not.toContain(secret);
  });

  it("times out: rejects promptly and asks sshd to kill the command", async () => {
    const started = Date.now();
    await expect(ssh.exec("sleep 2; echo late", { timeoutMs: 300 })).rejects.toThrow(
      /timed out after 300 ms/,
    );
    expect(Date.now() - started).toBeLessThan(1500);
    // sshd refuses session signals to root logins (see connection.ts) and says so, which shows
    // the request arrived despite ssh2's Channel.signal() being a no-op after stdin is ended.
    if (process.getuid?.() === 0) {
      await vi.waitFor(() => expect(sshd.log()).toContain("session signalling requires"));
    }
    const aborted = new AbortController();
    const pending = ssh.exec("sleep 2; echo late", { signal: aborted.signal });
    aborted.abort(new Error("stop it"));
    await expect(pending).rejects.toThrow("stop it");
  });

  it("passes hostile strings through the remote shell unchanged", async () => {
    const marker = join(remoteDir, "pwned");
    const hostile = [
      "it's",
      `say "hi"`,
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      `; touch ${marker}`,
      `a && touch ${marker} || b`,
      "line one\nline two\n",
      "tab\there",
      "$HOME $1 !! ~ * ? [a] {x,y} # % ^ < > |",
      `\${PATH}`,
      "\\'\\\"",
      "ünïcødé 日本語 🚀",
      "-n",
      "'",
      "''",
      " leading and trailing ",
      "",
    ];
    const output = await ssh.run(["printf", "%s\\0", ...hostile]);
    expect(output.stdout.split("\0").slice(0, -1)).toEqual(hostile);

    // Random strings, all in one round trip.
    const random = fc.sample(
      fc.string({ unit: "binary", maxLength: 40 }).filter((s) => !s.includes("\0")),
      { numRuns: 300, seed: 7 },
    );
    const back = await ssh.run(["printf", "%s\\0", ...random]);
    expect(back.stdout.split("\0").slice(0, -1)).toEqual(random);
    expect(existsSync(marker)).toBe(false);
  });

  it("creates a file with a hostile name where intended and nowhere else", async () => {
    const dir = testTempDir("hostile-");
    const evil = `evil-${randomBytes(4).toString("hex")}`; // would land in the remote $HOME
    const name = `x'; touch ${evil} "$(touch ${evil})"\n\`touch ${evil}\` ü`;
    await ssh.check(["touch", "--", join(dir, name)]);
    const listing = await ssh.check(["find", dir, "-mindepth", "1", "-print0"]);
    expect(listing.stdout.split("\0").filter(Boolean)).toEqual([join(dir, name)]);
    expect(existsSync(join(homedir(), evil))).toBe(false);
  });

  it("writes secrets over SFTP with mode 0600, also over a wider existing file", async () => {
    const path = join(remoteDir, "token");
    writeFileSync(path, "old", { mode: 0o644 });
    await ssh.writeFile(path, "hf_secret_token");
    expect((await ssh.check(["stat", "-c", "%a", path])).stdout.trim()).toBe("600");
    expect((await ssh.readFile(path)).toString()).toBe("hf_secret_token");

    const fresh = join(remoteDir, "fresh.env");
    await ssh.writeFile(fresh, "A=1\n", 0o640);
    expect((await ssh.check(["stat", "-c", "%a", fresh])).stdout.trim()).toBe("640");
  });

  it("uploads a file over SFTP", async () => {
    const local = join(testTempDir(), "project.tar.gz");
    const content = randomBytes(3 * 1024 * 1024 + 17);
    writeFileSync(local, content);
    const remote = join(remoteDir, "project.tar.gz");
    await ssh.upload(local, remote);
    expect((await ssh.readFile(remote)).equals(content)).toBe(true);
    await expect(ssh.readFile(join(remoteDir, "missing"))).rejects.toThrow();
  });

  it("puts SetEnv PATH first, so a fake binary shadows the real one", async () => {
    const bin = testTempDir("fake-bin-");
    writeFileSync(join(bin, "nvidia-smi"), "#!/bin/sh\necho fake-gpu\n", { mode: 0o755 });
    const withPath = await startSshd({ dir: testTempDir(), setEnvPath: `${bin}:/usr/bin:/bin` });
    try {
      const hosts = new KnownHosts(join(testTempDir(), "known_hosts"));
      const node = await SshConnection.connect(withPath, { knownHosts: hosts, hostId: "gpu" });
      const result = await node.exec("command -v nvidia-smi; nvidia-smi");
      expect(result.stdout).toBe(`${join(bin, "nvidia-smi")}\nfake-gpu\n`);
      await node.close();
    } finally {
      await withPath.dispose();
    }
  });
});

describe("host key pinning", () => {
  it("records the key, matches it on reconnect, refuses a changed one", async () => {
    const sshd = await startSshd({ dir: testTempDir() });
    try {
      const knownHosts = new KnownHosts(join(testTempDir(), "known_hosts"));
      const hostId = `127.0.0.1:${sshd.port}`;
      const first = await SshConnection.connect(sshd, { knownHosts, hostId });
      await first.close();
      expect(first.closed).toBe(true);
      const pinned = readFileSync(knownHosts.file, "utf8");
      expect(pinned.startsWith(`${hostId} ssh-ed25519 `)).toBe(true);

      const again = await SshConnection.connect(sshd, { knownHosts, hostId });
      await again.close();

      const before = sshd.hostKeyFingerprint;
      sshd.regenerateHostKey();
      await sshd.restart();
      const refused = SshConnection.connect(sshd, { knownHosts, hostId });
      await expect(refused).rejects.toThrow(/changed/);
      await expect(refused).rejects.toBeInstanceOf(HostKeyChangedError);
      await expect(refused).rejects.toThrow(before);
      await expect(refused).rejects.toThrow(sshd.hostKeyFingerprint);
      expect(readFileSync(knownHosts.file, "utf8")).toBe(pinned);
    } finally {
      await sshd.dispose();
    }
  });
});

describe("waitForSsh", () => {
  it("waits for an sshd that starts late", async () => {
    const sshd = await startSshd({ dir: testTempDir(), startDelayMs: 2000 });
    try {
      const attempts: [number, Error | null][] = [];
      const started = Date.now();
      const connection = await waitForSsh(sshd, {
        knownHosts: new KnownHosts(join(testTempDir(), "known_hosts")),
        hostId: "late",
        timeoutMs: 15_000,
        intervalMs: 200,
        onAttempt: (n, lastError) => attempts.push([n, lastError]),
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
      expect(attempts.length).toBeGreaterThan(1);
      expect(attempts[0]).toEqual([1, null]);
      expect(attempts[1]?.[1]?.message).toMatch(/ECONNREFUSED/);
      expect((await connection.exec("echo up")).stdout).toBe("up\n");
      await connection.close();
    } finally {
      await sshd.dispose();
    }
  });

  it("gives up after the timeout with the last failure", async () => {
    const port = await freePort();
    const { privateKey } = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      privateKeyEncoding: { type: "pkcs1", format: "pem" },
      publicKeyEncoding: { type: "pkcs1", format: "pem" },
    });
    const target = { host: "127.0.0.1", port, username: "root", privateKey };
    const waiting = waitForSsh(target, {
      knownHosts: new KnownHosts(join(testTempDir(), "known_hosts")),
      hostId: "never",
      timeoutMs: 1000,
      intervalMs: 200,
    });
    await expect(waiting).rejects.toBeInstanceOf(SshNotReadyError);
    await expect(waiting).rejects.toThrow(/did not answer within 1 s .*ECONNREFUSED/);
  });

  it("fails at once on a changed host key or an unreadable known-hosts file", async () => {
    const sshd = await startSshd({ dir: testTempDir() });
    try {
      const knownHosts = new KnownHosts(join(testTempDir(), "known_hosts"));
      knownHosts.check("pinned", ed25519Blob());
      let attempts = 0;
      const waiting = waitForSsh(sshd, {
        knownHosts,
        hostId: "pinned",
        timeoutMs: 10_000,
        onAttempt: () => attempts++,
      });
      await expect(waiting).rejects.toBeInstanceOf(HostKeyChangedError);
      expect(attempts).toBe(1);

      writeFileSync(knownHosts.file, "not a known-hosts line\n");
      const unreadable = waitForSsh(sshd, { knownHosts, hostId: "pinned", timeoutMs: 10_000 });
      await expect(unreadable).rejects.toThrow(/known_hosts:1: expected/);
    } finally {
      await sshd.dispose();
    }
  });
});
