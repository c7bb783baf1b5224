/** Cost from the API's price and uptime: Lambda has no billing endpoint and bills per minute. */

/** Whole minutes started, as billed; a node that is up bills from its launch. */
function billedMinutes(fromMs: number, toMs: number): number {
  return Math.max(0, Math.ceil((toMs - fromMs) / 60_000));
}

export function costUsd(priceCentsPerHour: number, fromMs: number, toMs: number): number {
  return (priceCentsPerHour / 100) * (billedMinutes(fromMs, toMs) / 60);
}

export const usd = (value: number) => `$${value.toFixed(2)}`;

/** "3h 07m", "12m", "45s": uptime for tables. */
export function duration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, "0")}m`;
}
