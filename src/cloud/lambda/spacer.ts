import type { Clock } from "./clock.js";

/**
 * Runs tasks one at a time, each starting at least `intervalMs` after the previous one ended.
 * The API counts arrivals; counting from the end (not the start) keeps the gap between arrivals
 * at least `intervalMs` whatever the network latency. At about 1 request/s, serial costs nothing.
 */
export class Spacer {
  #lastEnd = Number.NEGATIVE_INFINITY;
  #turn: Promise<void> = Promise.resolve();

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
  ) {}

  /** Waits for this caller's turn and slot, then runs `task`; an abort frees the turn. */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const previous = this.#turn;
    let release = () => {};
    this.#turn = new Promise((resolve) => {
      release = resolve;
    });
    try {
      await previous;
      signal?.throwIfAborted();
      const wait = this.#lastEnd + this.intervalMs - this.clock.now();
      if (wait > 0) await this.clock.sleep(wait, signal);
      try {
        return await task();
      } finally {
        this.#lastEnd = this.clock.now();
      }
    } finally {
      release();
    }
  }
}
