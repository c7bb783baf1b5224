import type { Clock } from "../../src/cloud/lambda/index.js";

interface Sleeper {
  at: number;
  wake: () => void;
}

/**
 * A Clock whose sleeps end without real waiting: whenever the event loop has nothing else to do
 * (a setImmediate turn), virtual time jumps to the earliest pending deadline and wakes that
 * sleeper. Code that waits seconds (rate limits, backoff, polling) runs in milliseconds, and
 * concurrent sleepers wake in deadline order. Share `now` with the Lambda stand-in so both sides
 * see the same time.
 */
export class VirtualClock implements Clock {
  #now: number;
  #sleepers: Sleeper[] = [];
  #scheduled = false;

  constructor(start = Date.UTC(2025, 0, 1)) {
    this.#now = start;
  }

  readonly now = (): number => this.#now;

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
        reject(signal?.reason);
      };
      const sleeper: Sleeper = {
        at: this.#now + Math.max(0, ms),
        wake: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#sleepers.push(sleeper);
      this.#sleepers.sort((a, b) => a.at - b.at);
      this.#schedule();
    });
  }

  /** Moves time forward by hand (e.g. past a boot time without polling). */
  advance(ms: number): void {
    this.#now += ms;
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      const next = this.#sleepers.shift();
      if (next === undefined) return;
      this.#now = Math.max(this.#now, next.at);
      next.wake();
      if (this.#sleepers.length > 0) this.#schedule();
    });
  }
}
