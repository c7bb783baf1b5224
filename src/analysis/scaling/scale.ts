/** Model scale in billions of parameters, from a size label ("0.6B", "350M") or a model name. */

const UNIT_BILLIONS: Record<string, number> = { k: 1e-6, m: 1e-3, b: 1, t: 1e3 };

/**
 * Parses a size label such as "0.6B", "70B", "350M", "1.5b", "1T" or "125 m" into billions of
 * parameters. A bare number (no unit) is not accepted: "7" could be billions or millions.
 */
export function parseScale(text: string): number | null {
  const match = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*([kmbt])\s*$/i.exec(text);
  if (match === null) return null;
  const value = Number(match[1]) * (UNIT_BILLIONS[(match[2] as string).toLowerCase()] as number);
  return Number.isFinite(value) && value > 0 ? value : null;
}

export type NameScale = { scale: number; label: string } | { scale: null; reason: string };

/**
 * Finds the size in a model name: "onnx-community/Qwen3-0.6B-ONNX" -> 0.6, "opt-350m" -> 0.35,
 * "Qwen3-30B-A3B" -> 30 (a size glued to a letter, like the active-parameter "A3B" or the
 * "8x7B" of a mixture, is not a size). Only M and B units: "4k" in a name is a context length.
 */
export function scaleFromModelName(name: string): NameScale {
  const found = new Map<string, number>();
  for (const match of name.matchAll(/(?:^|[^a-z0-9.])(\d+(?:\.\d+)?)([mb])(?![a-z0-9])/gi)) {
    const label = `${match[1]}${(match[2] as string).toUpperCase()}`;
    const scale = parseScale(label);
    if (scale !== null) found.set(label, scale);
  }
  if (found.size === 1) {
    const [label, scale] = [...found][0] as [string, number];
    return { scale, label };
  }
  return {
    scale: null,
    reason:
      found.size === 0
        ? `no parameter count in its manifest and no size such as "0.6B" in its name`
        : `its name holds several sizes (${[...found.keys()].join(", ")})`,
  };
}

/** A readable label for a scale in billions: 0.6 -> "0.6B", 0.35 -> "350M". */
export function formatScale(billions: number): string {
  if (billions >= 1) return `${Number(billions.toPrecision(4))}B`;
  return `${Number((billions * 1000).toPrecision(4))}M`;
}
