/**
 * One SSH connection to a node (ssh2 `Client`): commands, files over SFTP and reverse tunnels.
 * The host key is checked against KnownHosts during the handshake, so a connection that resolves
 * is to the pinned node. Secrets travel on stdin or in SFTP-written files, never on a command line
 * (which any process on the node can read from /proc).
 */
import type { Socket } from "node:net";
import { Client, type ClientChannel, type SFTPWrapper } from "ssh2";
import type { KnownHosts } from "./known-hosts.js";
import { shellCommand } from "./shell.js";

export interface SshTarget {
  host: string;
  port: number;
  username: string;
  privateKey: string | Buffer;
}

export interface ConnectOptions {
  knownHosts: KnownHosts;
  /** The name the host key is pinned under (the Lambda instance id). */
  hostId: string;
  /** Handshake limit, TCP connect included (ssh2's readyTimeout; default 20 s). */
  readyTimeoutMs?: number;
  /** SSH-level keepalive; a dead link is noticed after interval x (countMax + 1). */
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  signal?: AbortSignal;
}

export interface ExecOptions {
  /** Written to the command's stdin, then closed: the way to hand a process a secret. */
  stdin?: string | Buffer;
  signal?: AbortSignal;
  onStdout?(chunk: string): void;
  onStderr?(chunk: string): void;
  timeoutMs?: number;
}

export interface ExecResult {
  /** null when the process was killed by a signal. */
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** A remote command that did not exit with status 0 (from `check`). */
export class RemoteCommandError extends Error {
  override readonly name = "RemoteCommandError";
  constructor(
    readonly command: string,
    readonly result: ExecResult,
  ) {
    const status = result.code !== null ? `exit status ${result.code}` : `signal ${result.signal}`;
    const tail = result.stderr.trimEnd().split("\n").slice(-10).join("\n");
    super(`remote command failed with ${status}: ${command}${tail ? `\n${tail}` : ""}`);
  }
}

export class SshConnection {
  /** Reverse tunnels by remote port: what to connect each incoming connection to. */
  private readonly forwards = new Map<number, () => Socket>();
  /** Live tunnel sockets, destroyed when the connection goes so none outlives it. */
  private readonly tunnelSockets = new Set<Socket | ClientChannel>();
  private readonly closeListeners: ((reason: string) => void)[] = [];
  private sftpSession: Promise<SFTPWrapper> | undefined;
  private lastError: Error | undefined;
  private isClosed = false;

  private constructor(
    private readonly client: Client,
    /** "user@host:port (host id)", for messages. */
    readonly label: string,
  ) {
    // ssh2 emits 'error' after 'ready' too (a keepalive timeout); unhandled, it would crash.
    client.on("error", (error) => {
      this.lastError = error;
    });
    client.on("close", () => this.closedNow());
    client.on("tcp connection", (details, accept, reject) => {
      const connectLocal = this.forwards.get(details.destPort);
      if (connectLocal === undefined) return reject();
      let local: Socket;
      try {
        local = connectLocal();
      } catch {
        return reject(); // a throw here would be uncaught, inside ssh2's packet handling
      }
      this.pipe(accept(), local);
    });
  }

  static connect(target: SshTarget, options: ConnectOptions): Promise<SshConnection> {
    const label = `${target.username}@${target.host}:${target.port} (${options.hostId})`;
    const { signal } = options;
    return new Promise((resolve, reject) => {
      signal?.throwIfAborted();
      const client = new Client();
      // Why the host key was refused (a changed key; or an unreadable known-hosts file).
      let hostKeyError: Error | undefined;
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener("abort", onAbort);
        client.destroy();
        reject(error);
      };
      const onAbort = () => fail(signal?.reason ?? new Error("aborted"));
      signal?.addEventListener("abort", onAbort, { once: true });
      client.once("ready", () => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener("abort", onAbort);
        resolve(new SshConnection(client, label));
      });
      client.on("error", (error) => {
        fail(hostKeyError ?? new Error(`SSH to ${label} failed: ${error.message}`));
      });
      client.on("close", () => fail(new Error(`SSH to ${label} closed during the handshake`)));
      client.connect({
        host: target.host,
        port: target.port,
        username: target.username,
        privateKey: target.privateKey,
        readyTimeout: options.readyTimeoutMs ?? 20_000,
        keepaliveInterval: options.keepaliveIntervalMs ?? 10_000,
        keepaliveCountMax: options.keepaliveCountMax ?? 3,
        // Without hostHash ssh2 passes the raw key blob. The key is pinned before the server has
        // proven it holds it (ssh2 checks the signature next); a forged first key then only makes
        // later connections fail loudly, never succeed silently.
        // Must not throw: it runs inside ssh2's socket handler, where a throw is uncaught.
        hostVerifier: (key: Buffer) => {
          try {
            options.knownHosts.check(options.hostId, key);
            return true;
          } catch (error) {
            hostKeyError = error instanceof Error ? error : new Error(String(error));
            return false;
          }
        },
      });
    });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Called once with the reason when the connection is gone (at once if it already is). */
  onClose(listener: (reason: string) => void): void {
    if (this.isClosed) queueMicrotask(() => listener(this.closeReason()));
    else this.closeListeners.push(listener);
  }

  /** Ends the connection; resolves when it is closed. */
  close(): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    return new Promise((resolve) => {
      // end() waits for the server's side of the TCP close, which a dead link never delivers.
      const force = setTimeout(() => this.client.destroy(), 2000);
      this.closeListeners.push(() => {
        clearTimeout(force);
        resolve();
      });
      this.client.end();
    });
  }

  /** Runs a command line through the remote login shell; see `run` for argv. */
  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const { signal, timeoutMs } = options;
    return new Promise((resolve, reject) => {
      signal?.throwIfAborted();
      const result: ExecResult = { code: null, signal: null, stdout: "", stderr: "" };
      let channel: ClientChannel | undefined;
      let exited = false;
      let settled = false;
      const finish = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        if (error) reject(error);
        else resolve(result);
      };
      // Stops waiting at once: sshd keeps the channel open until the process has exited. It
      // honours the KILL (to the session's process group) for non-root logins only ("session
      // signalling requires privilege separation" as root); failing that, the closed channel
      // breaks the process's output pipes and its next write ends it (SIGPIPE).
      const stopRemote = (stream: ClientChannel) => {
        killRemote(stream);
        stream.close();
      };
      const interrupt = (reason: Error) => {
        if (channel) stopRemote(channel);
        finish(reason);
      };
      const onAbort = () => interrupt(signal?.reason ?? new Error("aborted"));
      signal?.addEventListener("abort", onAbort, { once: true });
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(
              () => interrupt(new Error(`remote command timed out after ${timeoutMs} ms`)),
              timeoutMs,
            );
      const opened = (error: Error | undefined, stream: ClientChannel) => {
        if (error) return finish(new Error(`SSH to ${this.label}: ${error.message}`));
        channel = stream;
        stream.setEncoding("utf8");
        stream.stderr.setEncoding("utf8");
        stream.on("data", (chunk: string) => {
          result.stdout += chunk;
          options.onStdout?.(chunk);
        });
        stream.stderr.on("data", (chunk: string) => {
          result.stderr += chunk;
          options.onStderr?.(chunk);
        });
        stream.on("exit", (code: number | null, signalName?: string) => {
          exited = true;
          result.code = code;
          result.signal = signalName ?? null;
        });
        stream.on("close", () => {
          if (!exited && this.isClosed) {
            finish(new Error(`SSH to ${this.label} closed while running: ${command}`));
          } else finish();
        });
        stream.end(options.stdin);
        if (settled) stopRemote(stream); // interrupted while the channel was opening
      };
      try {
        this.client.exec(command, opened);
      } catch (error) {
        // ssh2 throws synchronously when the connection is already gone.
        finish(new Error(`SSH to ${this.label}: ${(error as Error).message}`));
      }
    });
  }

  /** Runs argv[0] with the other elements as its arguments, every one quoted. */
  async run(argv: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    return this.exec(shellCommand(argv), options);
  }

  /** Like `run`, but a non-zero exit is a RemoteCommandError (status and the tail of stderr). */
  async check(argv: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    const command = shellCommand(argv);
    const result = await this.exec(command, options);
    if (result.code !== 0) throw new RemoteCommandError(command, result);
    return result;
  }

  /**
   * Writes a file over SFTP, the mode set on the open handle before any content is written (also
   * when the file already existed with a wider mode), so a secret is never readable by others.
   */
  async writeFile(remotePath: string, content: string | Buffer, mode = 0o600): Promise<void> {
    const sftp = await this.sftp();
    const data = typeof content === "string" ? Buffer.from(content) : content;
    const handle = await sftpCall<Buffer>((cb) => sftp.open(remotePath, "w", { mode }, cb));
    try {
      await sftpCall((cb) => sftp.fchmod(handle, mode, cb));
      if (data.length > 0) {
        await sftpCall((cb) => sftp.write(handle, data, 0, data.length, 0, cb));
      }
    } finally {
      await sftpCall((cb) => sftp.close(handle, cb));
    }
  }

  async readFile(remotePath: string): Promise<Buffer> {
    const sftp = await this.sftp();
    return sftpCall<Buffer>((cb) => sftp.readFile(remotePath, cb));
  }

  async upload(localPath: string, remotePath: string): Promise<void> {
    const sftp = await this.sftp();
    await sftpCall((cb) => sftp.fastPut(localPath, remotePath, cb));
  }

  /**
   * Asks sshd to listen on the node's 127.0.0.1:bindPort (0: a port of its choosing) and pipes
   * each connection made there to a fresh socket from connectLocal. Resolves with the bound port.
   * sshd refuses without saying why (port held by another process or an older session of ours,
   * forwarding disabled): ssh2 reports "Unable to bind to 127.0.0.1:<port>".
   */
  forwardIn(bindPort: number, connectLocal: () => Socket): Promise<number> {
    return new Promise((resolve, reject) => {
      try {
        this.client.forwardIn("127.0.0.1", bindPort, (error, port) => {
          if (error) return reject(new Error(`SSH to ${this.label}: ${error.message}`));
          this.forwards.set(port, connectLocal);
          resolve(port);
        });
      } catch (error) {
        reject(new Error(`SSH to ${this.label}: ${(error as Error).message}`));
      }
    });
  }

  /** Both ends closed as soon as either one closes or fails. */
  private pipe(channel: ClientChannel, local: Socket): void {
    this.tunnelSockets.add(channel);
    this.tunnelSockets.add(local);
    const done = () => {
      this.tunnelSockets.delete(channel);
      this.tunnelSockets.delete(local);
      local.destroy();
      channel.destroy();
    };
    channel.on("error", done);
    local.on("error", done);
    channel.on("close", done);
    local.on("close", done);
    channel.pipe(local).pipe(channel);
  }

  private sftp(): Promise<SFTPWrapper> {
    // One SFTP channel per connection, opened on first use; opened again if it failed or closed.
    if (this.sftpSession !== undefined) return this.sftpSession;
    const session = new Promise<SFTPWrapper>((resolve, reject) => {
      try {
        this.client.sftp((error, sftp) => (error ? reject(error) : resolve(sftp)));
      } catch (error) {
        reject(error);
      }
    }).catch((error: Error) => {
      throw new Error(`SFTP to ${this.label}: ${error.message}`);
    });
    const forget = () => {
      if (this.sftpSession === session) this.sftpSession = undefined;
    };
    session.then((sftp) => sftp.on("close", forget), forget);
    this.sftpSession = session;
    return session;
  }

  private closeReason(): string {
    return this.lastError ? this.lastError.message : "connection closed";
  }

  private closedNow(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const socket of this.tunnelSockets) socket.destroy();
    this.tunnelSockets.clear();
    const reason = this.closeReason();
    for (const listener of this.closeListeners.splice(0)) listener(reason);
  }
}

function sftpCall<T = void>(call: (callback: (error?: Error | null, value?: T) => void) => void) {
  return new Promise<T>((resolve, reject) => {
    call((error, value) => (error ? reject(error) : resolve(value as T)));
  });
}

/**
 * Sends KILL to the remote command. ssh2 1.17's Channel.signal() does nothing once stdin is ended
 * (it checks Node's writable flag; mscdex/ssh2 PR #1510), and exec always ends stdin, so the
 * protocol call underneath is used while the channel is open or half-closed by our EOF.
 */
function killRemote(stream: ClientChannel): void {
  const internals = stream as unknown as {
    outgoing?: { id?: number; state?: string };
    _client?: { _protocol?: { signal?(channel: number, name: string): void } };
  };
  const { outgoing } = internals;
  const protocol = internals._client?._protocol;
  if (outgoing?.id === undefined || !(outgoing.state === "open" || outgoing.state === "eof")) {
    return;
  }
  if (typeof protocol?.signal === "function") protocol.signal(outgoing.id, "KILL");
  else stream.signal("KILL");
}
