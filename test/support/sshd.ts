/**
 * A real OpenSSH sshd for the SSH tests: /usr/sbin/sshd in the foreground on 127.0.0.1 at a free
 * port, with its own ed25519 host key, a client key pair and authorized_keys in a temporary
 * directory, logging in as the current user. scripts/ensure-sshd.sh (global set-up) makes sure the
 * binary is there.
 *
 * PATH on the node: sshd builds a session's PATH itself, then applies `SetEnv`, which overrides
 * it (checked with OpenSSH 9.2); the user's shell start-up files may still prepend to it (root's
 * ~/.bashrc here adds pyenv and cargo), so a fake binary placed first stays ahead of the system
 * directories.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./ports.js";

export const SSHD = "/usr/sbin/sshd";

export interface SshdOptions {
  /** Parent of the temporary directory (default: the OS temp directory). */
  dir?: string;
  /** Start sshd this late (the port is chosen at once): for tests that wait for SSH. */
  startDelayMs?: number;
  port?: number;
  /** Every session's PATH (sshd_config SetEnv). */
  setEnvPath?: string;
  /** sshd's own check that the client is alive (seconds; default 1, count 3). */
  clientAliveIntervalS?: number;
  clientAliveCountMax?: number;
}

export interface Sshd {
  host: string;
  port: number;
  username: string;
  privateKey: string;
  /** SHA256 fingerprint of the current host key (changes with regenerateHostKey). */
  readonly hostKeyFingerprint: string;
  /** Resolves when sshd listens (at once unless startDelayMs); rejects if it could not start. */
  started: Promise<void>;
  /** A new host key, served from the next restart on. */
  regenerateHostKey(): void;
  /** Stops sshd and every session process under it (a node going away). */
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** What sshd wrote to stderr (for failure messages). */
  log(): string;
  /** stop() and remove the temporary directory. */
  dispose(): Promise<void>;
}

export async function startSshd(options: SshdOptions = {}): Promise<Sshd> {
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 }); // privilege separation directory
  const dir = mkdtempSync(join(options.dir ?? tmpdir(), "sshd-"));
  const port = options.port ?? (await freePort());
  const hostKey = join(dir, "host_ed25519");
  const clientKey = join(dir, "client_ed25519");
  keygen(hostKey);
  keygen(clientKey);
  writeFileSync(join(dir, "authorized_keys"), readFileSync(`${clientKey}.pub`));
  const config = join(dir, "sshd_config");
  writeFileSync(config, sshdConfig(dir, port, hostKey, options));
  let hostKeyFingerprint = fingerprintOf(hostKey);
  let child: ChildProcess | undefined;
  let log = "";

  const start = async (): Promise<void> => {
    const proc = spawn(SSHD, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
    child = proc;
    await new Promise<void>((resolve, reject) => {
      proc.stderr?.setEncoding("utf8");
      proc.stderr?.on("data", (chunk: string) => {
        log += chunk;
        if (log.includes(`Server listening on 127.0.0.1 port ${port}`)) resolve();
      });
      proc.on("error", reject);
      proc.on("exit", (code) => reject(new Error(`sshd exited with ${code} on start:\n${log}`)));
    });
  };
  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc?.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    // Session processes run in sessions of their own (setsid), so a process group kill would
    // miss them; they are still sshd's children.
    const sessions = descendants(proc.pid);
    const exited = new Promise((resolve) => proc.once("exit", resolve));
    proc.kill("SIGTERM");
    for (const pid of sessions) killQuietly(pid);
    await exited;
  };
  const started =
    options.startDelayMs === undefined ? start() : sleep(options.startDelayMs).then(start);
  if (options.startDelayMs === undefined) await started;
  else started.catch(() => {}); // the test awaits `started` if it cares

  return {
    host: "127.0.0.1",
    port,
    username: userInfo().username,
    privateKey: readFileSync(clientKey, "utf8"),
    get hostKeyFingerprint() {
      return hostKeyFingerprint;
    },
    started,
    regenerateHostKey() {
      rmSync(hostKey);
      rmSync(`${hostKey}.pub`);
      keygen(hostKey);
      hostKeyFingerprint = fingerprintOf(hostKey);
    },
    stop,
    async restart() {
      await stop();
      await start();
    },
    log: () => log,
    async dispose() {
      await started.catch(() => {});
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function sshdConfig(dir: string, port: number, hostKey: string, options: SshdOptions): string {
  const lines = [
    `ListenAddress 127.0.0.1`,
    `Port ${port}`,
    `HostKey ${hostKey}`,
    `PidFile ${join(dir, "sshd.pid")}`,
    `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
    "PermitRootLogin prohibit-password",
    "PubkeyAuthentication yes",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "StrictModes no",
    "UsePAM no",
    "UseDNS no",
    "AllowTcpForwarding yes",
    "GatewayPorts no",
    `ClientAliveInterval ${options.clientAliveIntervalS ?? 1}`,
    `ClientAliveCountMax ${options.clientAliveCountMax ?? 3}`,
    "Subsystem sftp internal-sftp",
    "LogLevel VERBOSE",
  ];
  if (options.setEnvPath !== undefined) lines.push(`SetEnv "PATH=${options.setEnvPath}"`);
  return `${lines.join("\n")}\n`;
}

function keygen(file: string): void {
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", file]);
}

function fingerprintOf(keyFile: string): string {
  // "256 SHA256:... comment (ED25519)"
  const output = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", `${keyFile}.pub`], {
    encoding: "utf8",
  });
  const fingerprint = output.split(" ")[1];
  if (fingerprint === undefined) throw new Error(`unexpected ssh-keygen -l output: ${output}`);
  return fingerprint;
}

/** Every process below pid, from /proc (parent pid is field 4 of /proc/<pid>/stat). */
function descendants(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      parents.set(Number(entry), Number(fields[1]));
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const queue = [pid];
  for (let parent = queue.shift(); parent !== undefined; parent = queue.shift()) {
    for (const [child, ppid] of parents) {
      if (ppid === parent) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}
