/**
 * Percentile with linear interpolation, computed the way numpy.percentile does by default
 * (method "linear"), including its two-sided lerp, so thresholds match numpy to the last bit.
 */
export function percentile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) throw new RangeError("percentile of an empty set");
  if (!(q >= 0 && q <= 100)) throw new RangeError(`percentile must be within [0, 100], got ${q}`);
  const sorted = Float64Array.from(values).sort();
  const virtualIndex = (sorted.length - 1) * (q / 100);
  const below = Math.floor(virtualIndex);
  const above = Math.min(below + 1, sorted.length - 1);
  const gamma = virtualIndex - below;
  const a = sorted[below] as number;
  const b = sorted[above] as number;
  const diff = b - a;
  return gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma;
}

/**
 * The DeepConf threshold: percentile_{100 - eta}. eta = 10 ("low") keeps the top 10%,
 * eta = 90 ("high") keeps the top 90%.
 */
export function etaThreshold(values: ArrayLike<number>, eta: number): number {
  if (!(eta > 0 && eta <= 100)) throw new RangeError(`eta must be within (0, 100], got ${eta}`);
  return percentile(values, 100 - eta);
}
