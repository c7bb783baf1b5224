/**
 * Keeps one node's reverse tunnel to a local TCP service (the orchestrator's Redis) up: the
 * worker on the node talks to 127.0.0.1:<remote port> there and reaches localHost:localPort here.
 * When the SSH connection drops (keepalive timeout, reset), it reconnects with backoff until
 * stop() and binds again, the previous port first so the worker's address stays valid. sshd may
 * still hold that port for the dropped session (until its ClientAlive check gives up on it), and
 * it refuses a bind without saying why; then a new port is taken and reported with
 * isNewPort = true, so the caller can point the worker at it.
 */
import { connect as connectTcp } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { InputError } from "../../errors.js";
import { type ConnectOptions, SshConnection, type SshTarget } from "./connection.js";

export interface TunnelKeeperOptions
  extends Pick<ConnectOptions, "knownHosts" | "hostId" | "readyTimeoutMs" | "keepaliveCountMax"> {
  target: SshTarget;
  localHost: string;
  localPort: number;
  /** Port to ask for on the node's 127.0.0.1 at start (default: any free one). */
  preferredRemotePort?: number;
  /** Default 10 s, the minimum worth using against a real node. */
  keepaliveIntervalMs?: number;
  /** First pause before reconnecting (default 1 s), doubled after each failure up to the cap. */
  reconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
  /**
   * After each bind. isNewPort: the port differs from the one expected (the previous one, or
   * preferredRemotePort at start; always true at start without a preferred port).
   */
  onBound?(remotePort: number, isNewPort: boolean): void | Promise<void>;
  /** The connection was lost (or, after a changed host key, given up on for good). */
  onDown?(reason: string): void;
  log?(line: string): void;
}

interface Waiter {
  resolve(port: number): void;
  reject(error: Error): void;
}

export class TunnelKeeper {
  private current: SshConnection | null = null;
  private port: number | null = null;
  private stopped = false;
  private failure: Error | null = null;
  private readonly abort = new AbortController();
  private waiters: Waiter[] = [];
  private reconnecting: Promise<void> | null = null;

  constructor(private readonly options: TunnelKeeperOptions) {}

  /** The open connection, or null while reconnecting (or after stop). */
  get connection(): SshConnection | null {
    return this.current;
  }

  /** The port last bound on the node (kept while reconnecting), null before the first bind. */
  get remotePort(): number | null {
    return this.port;
  }

  /** Connects and binds; resolves with the remote port. A failure here is not retried. */
  async start(): Promise<number> {
    if (this.current !== null || this.port !== null || this.stopped) {
      throw new Error("TunnelKeeper.start may be called once, before stop");
    }
    return this.establish();
  }

  /** The port of the next successful bind after this call (for tests and for callers that wait). */
  nextBound(): Promise<number> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.stopped) return Promise.reject(new Error(`tunnel to ${this.hostId} is stopped`));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Closes the connection and ends reconnecting; nothing of the keeper's is left running. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort(new Error(`tunnel to ${this.hostId} stopped`));
    this.settleWaiters(new Error(`tunnel to ${this.hostId} stopped`));
    const connection = this.current;
    this.current = null;
    await connection?.close();
    await this.reconnecting;
  }

  private get hostId(): string {
    return this.options.hostId;
  }

  private log(line: string): void {
    this.options.log?.(`tunnel ${this.hostId}: ${line}`);
  }

  private async establish(): Promise<number> {
    const { options } = this;
    const connection = await SshConnection.connect(options.target, {
      knownHosts: options.knownHosts,
      hostId: options.hostId,
      readyTimeoutMs: options.readyTimeoutMs,
      keepaliveIntervalMs: options.keepaliveIntervalMs,
      keepaliveCountMax: options.keepaliveCountMax,
      signal: this.abort.signal,
    });
    const expected = this.port ?? options.preferredRemotePort ?? null;
    let port: number;
    try {
      port = await this.bind(connection, expected ?? 0);
      this.abort.signal.throwIfAborted();
    } catch (error) {
      await connection.close();
      throw error;
    }
    this.current = connection;
    this.port = port;
    connection.onClose((reason) => this.dropped(connection, reason));
    this.log(`node 127.0.0.1:${port} -> ${options.localHost}:${options.localPort}`);
    try {
      await options.onBound?.(port, port !== expected);
    } catch (error) {
      this.log(`onBound failed: ${(error as Error).message}`);
    }
    for (const waiter of this.waiters.splice(0)) waiter.resolve(port);
    return port;
  }

  private async bind(connection: SshConnection, wanted: number): Promise<number> {
    const connectLocal = () =>
      connectTcp({ host: this.options.localHost, port: this.options.localPort });
    if (wanted !== 0) {
      try {
        return await connection.forwardIn(wanted, connectLocal);
      } catch (error) {
        if (connection.closed) throw error;
        this.log(
          `port ${wanted} refused (${(error as Error).message}), likely still held by the ` +
            "dropped session; taking a new one",
        );
      }
    }
    return connection.forwardIn(0, connectLocal);
  }

  private dropped(connection: SshConnection, reason: string): void {
    if (connection !== this.current || this.stopped) return;
    this.current = null;
    this.log(`connection lost: ${reason}`);
    this.options.onDown?.(reason);
    this.reconnecting = this.reconnect();
  }

  /**
   * Until connected again or stopped. Only an InputError ends it early: a changed host key (or an
   * unreadable known-hosts file) is not retried.
   */
  private async reconnect(): Promise<void> {
    const first = this.options.reconnectDelayMs ?? 1000;
    const cap = this.options.maxReconnectDelayMs ?? 30_000;
    let delay = first;
    for (let attempt = 1; ; attempt++) {
      this.log(`reconnect attempt ${attempt} in ${delay} ms`);
      try {
        await sleep(delay, undefined, { signal: this.abort.signal });
        await this.establish();
        return;
      } catch (error) {
        if (this.stopped) return;
        if (error instanceof InputError) return this.giveUp(error);
        this.log(`reconnect attempt ${attempt} failed: ${(error as Error).message}`);
      }
      delay = Math.min(delay * 2, cap);
    }
  }

  private giveUp(error: InputError): void {
    this.failure = error;
    this.log(`giving up: ${error.message}`);
    this.options.onDown?.(error.message);
    this.settleWaiters(error);
  }

  private settleWaiters(error: Error): void {
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }
}
