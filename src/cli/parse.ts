/** Argument parsers for commander: each returns a value or throws a one-line usage error. */
import { InvalidArgumentError } from "commander";
import ms from "ms";

export function positiveInteger(text: string): number {
  const value = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError(`expected a whole number >= 1, got "${text}"`);
  }
  return value;
}

export function numberIn(min: number, max: number, { minExclusive = false } = {}) {
  return (text: string): number => {
    const value = Number(text);
    const aboveMin = minExclusive ? value > min : value >= min;
    if (text.trim() === "" || !Number.isFinite(value) || !aboveMin || value > max) {
      const range = `${minExclusive ? "(" : "["}${min}, ${max}]`;
      throw new InvalidArgumentError(`expected a number in ${range}, got "${text}"`);
    }
    return value;
  };
}

export function nonNegativeInteger(text: string): number {
  const value = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(value)) {
    throw new InvalidArgumentError(`expected a whole number >= 0, got "${text}"`);
  }
  return value;
}

/** "20m", "1.5h", "90s" to milliseconds; a unit is required ("20" alone would be 20 ms). */
export function duration(text: string): number {
  const value = /[a-z]\s*$/i.test(text) ? ms(text as ms.StringValue) : undefined;
  if (value === undefined || !Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(`expected a duration such as 90s, 20m or 1.5h, got "${text}"`);
  }
  return value;
}
