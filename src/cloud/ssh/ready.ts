/**
 * Waiting for a booting node to take SSH. While it boots, connections are refused, the banner
 * never comes, or sshd is up before the user's key is installed (auth refused); only a command
 * that runs and exits 0 shows the node is usable. A changed host key is not "booting": it fails
 * at once (as does any InputError, such as an unreadable known-hosts file).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { InputError } from "../../errors.js";
import { type ConnectOptions, SshConnection, type SshTarget } from "./connection.js";

export interface WaitForSshOptions extends Pick<ConnectOptions, "knownHosts" | "hostId"> {
  timeoutMs: number;
  /** Pause between attempts (default 2 s). */
  intervalMs?: number;
  signal?: AbortSignal;
  /** Before each attempt: its number (from 1) and why the previous one failed (null first). */
  onAttempt?(attempt: number, lastError: Error | null): void;
}

/** The node never answered in time; the message ends with the last failure. */
export class SshNotReadyError extends InputError {}

/** Resolves with an open connection once `true` exits 0 on the node. */
export async function waitForSsh(
  target: SshTarget,
  options: WaitForSshOptions,
): Promise<SshConnection> {
  const { signal, timeoutMs } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: Error | null = null;
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    options.onAttempt?.(attempt, lastError);
    let connection: SshConnection | undefined;
    try {
      const left = Math.max(1, deadline - Date.now());
      connection = await SshConnection.connect(target, {
        knownHosts: options.knownHosts,
        hostId: options.hostId,
        readyTimeoutMs: Math.min(left, 20_000),
        signal,
      });
      const result = await connection.exec("true", {
        timeoutMs: Math.max(1, deadline - Date.now()),
        signal,
      });
      if (result.code === 0) return connection;
      throw new Error(`"true" on the node ended with ${result.code ?? result.signal}`);
    } catch (error) {
      connection?.close();
      // A changed host key or an unreadable known-hosts file will not get better by waiting.
      if (error instanceof InputError || signal?.aborted) throw error;
      lastError = error instanceof Error ? error : new Error(String(error));
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new SshNotReadyError(
        `SSH to ${target.username}@${target.host}:${target.port} (${options.hostId}) did not ` +
          `answer within ${timeoutMs / 1000} s (${attempt} attempts); last failure: ` +
          lastError.message,
      );
    }
    await sleep(Math.min(options.intervalMs ?? 2000, left), undefined, { signal });
  }
}
