/** Small helpers shared by the figure builders. */

export const isNumber = (value: unknown): value is number =>
  typeof value === "number" && Number.isFinite(value);

export const pct = (value: number | null, digits = 0): string =>
  value === null || !Number.isFinite(value) ? "-" : `${(100 * value).toFixed(digits)}%`;

export const fixed = (value: number | null, digits = 2): string =>
  value === null || !Number.isFinite(value) ? "-" : value.toFixed(digits);

export const pValue = (p: number | null): string =>
  p === null || !Number.isFinite(p) ? "-" : p < 0.001 ? "< 0.001" : p.toFixed(3);

export const distinct = <T>(values: readonly T[]): T[] => [...new Set(values)];

export const bucketLabel = (bucket: string): string => bucket.replace("_", " ");
