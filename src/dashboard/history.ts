/**
 * What the dashboard remembers between snapshots, in memory: tokens over time per sweep (for
 * the tokens/s chart), each worker's token count (for its tokens/s) and the workers it has seen
 * (a worker whose heartbeat expired shows as gone for a while instead of vanishing).
 */
import type { WorkerHeartbeat } from "../queue/types.js";

/** A rate is measured over at least this window. */
const RATE_WINDOW_MS = 3000;
/** Workers' counts change once per heartbeat (5 s by default): a longer window. */
const WORKER_WINDOW_MS = 6000;
/** Points kept per sweep. */
const MAX_POINTS = 600;
/** How long a gone worker stays on the page. */
const GONE_KEPT_MS = 15 * 60_000;

interface Sample {
  t: number;
  tokens: number;
}

export interface RatePoint {
  /** ISO time. */
  t: string;
  tokens_per_s: number;
}

/** tokens/s between the newest sample and the newest one at least the window older. */
function rateOf(samples: readonly Sample[], windowMs: number): number | null {
  const last = samples.at(-1);
  if (last === undefined) return null;
  for (let i = samples.length - 2; i >= 0; i--) {
    const s = samples[i] as Sample;
    if (last.t - s.t >= windowMs) {
      return Math.max(0, (last.tokens - s.tokens) / ((last.t - s.t) / 1000));
    }
  }
  return null;
}

export class TokenRate {
  private readonly samples: Sample[] = [];
  readonly points: RatePoint[] = [];

  /** `windowMs`: longer for workers, whose counts change once per heartbeat (5 s). */
  constructor(private readonly windowMs = RATE_WINDOW_MS) {}

  /** Records the running total; returns tokens/s over the last few seconds (null at first). */
  add(tokens: number, now: number): number | null {
    this.samples.push({ t: now, tokens });
    while (this.samples.length > 2 && now - (this.samples[1] as Sample).t >= this.windowMs) {
      this.samples.shift();
    }
    const rate = rateOf(this.samples, this.windowMs);
    if (rate !== null) {
      this.points.push({ t: new Date(now).toISOString(), tokens_per_s: rate });
      if (this.points.length > MAX_POINTS) this.points.shift();
    }
    return rate;
  }
}

export interface SeenWorker {
  heartbeat: WorkerHeartbeat;
  /** When it was last in the live list; null while it is. */
  goneSince: number | null;
  rate: TokenRate;
  tokensPerS: number | null;
}

export class History {
  private readonly sweeps = new Map<string, TokenRate>();
  private readonly workers = new Map<string, SeenWorker>();

  sweepRate(sweepId: string): TokenRate {
    let rate = this.sweeps.get(sweepId);
    if (rate === undefined) {
      rate = new TokenRate();
      this.sweeps.set(sweepId, rate);
    }
    return rate;
  }

  /** Updates the workers from the live heartbeats; returns live ones and recently gone ones. */
  updateWorkers(live: readonly WorkerHeartbeat[], now: number): SeenWorker[] {
    const ids = new Set(live.map((w) => w.id));
    for (const heartbeat of live) {
      const seen = this.workers.get(heartbeat.id) ?? {
        heartbeat,
        goneSince: null,
        rate: new TokenRate(WORKER_WINDOW_MS),
        tokensPerS: null,
      };
      seen.heartbeat = heartbeat;
      seen.goneSince = null;
      if (typeof heartbeat.tokensGenerated === "number") {
        seen.tokensPerS = seen.rate.add(heartbeat.tokensGenerated, now);
      }
      this.workers.set(heartbeat.id, seen);
    }
    for (const [id, seen] of this.workers) {
      if (ids.has(id)) continue;
      seen.goneSince ??= now;
      seen.tokensPerS = null;
      if (now - seen.goneSince > GONE_KEPT_MS) this.workers.delete(id);
    }
    return [...this.workers.values()].sort((a, b) => (a.heartbeat.id < b.heartbeat.id ? -1 : 1));
  }
}
