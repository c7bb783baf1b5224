/**
 * Which ONNX file under onnx/ holds which precision, as in the onnx-community exports, and the
 * external-data files next to it (weights past protobuf's 2 GiB limit live in `<file>_data`,
 * and past that in `<file>_data_1`, `<file>_data_2`, ...).
 */
export const DTYPES = ["fp32", "fp16", "q8", "q4", "q4f16"] as const;
export type Dtype = (typeof DTYPES)[number];

export const DTYPE_FILES: Record<Dtype, string> = {
  fp32: "model.onnx",
  fp16: "model_fp16.onnx",
  q8: "model_quantized.onnx",
  q4: "model_q4.onnx",
  q4f16: "model_q4f16.onnx",
};

export const ONNX_DIR = "onnx";

export function isDtype(value: unknown): value is Dtype {
  return typeof value === "string" && (DTYPES as readonly string[]).includes(value);
}

/** The repository path of a dtype's file: "onnx/model_q4.onnx". */
export function onnxPathOf(dtype: Dtype): string {
  return `${ONNX_DIR}/${DTYPE_FILES[dtype]}`;
}

/** The dtypes whose file is among `paths` (repository paths), in DTYPES order. */
export function dtypesAmong(paths: Iterable<string>): Dtype[] {
  const present = new Set(paths);
  return DTYPES.filter((dtype) => present.has(onnxPathOf(dtype)));
}

/** `<file>_data` then `<file>_data_1`, `<file>_data_2`, ... among `paths`, in that order. */
export function externalDataOf(onnxPath: string, paths: Iterable<string>): string[] {
  const prefix = `${onnxPath}_data`;
  const found: { path: string; index: number }[] = [];
  for (const path of paths) {
    if (path === prefix) found.push({ path, index: 0 });
    const match = path.startsWith(`${prefix}_`) ? /^_(\d+)$/.exec(path.slice(prefix.length)) : null;
    if (match) found.push({ path, index: Number(match[1]) });
  }
  return found.sort((a, b) => a.index - b.index).map(({ path }) => path);
}

/** "fp32 (model.onnx), q8 (model_quantized.onnx)" for messages. */
export function describeDtypes(dtypes: readonly Dtype[]): string {
  return dtypes.map((dtype) => `${dtype} (${DTYPE_FILES[dtype]})`).join(", ");
}
