import { setTimeout as delay } from "node:timers/promises";

/**
 * Time as the client sees it. Every wait (request spacing, backoff) goes through here, so tests
 * can inject a virtual clock whose sleep returns at once and rate-limit tests run in milliseconds.
 */
export interface Clock {
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason when it is aborted first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    await delay(ms, undefined, { signal });
  },
};
