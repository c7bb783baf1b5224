/**
 * A run config file (YAML or JSON, which is YAML): `params` (any subset of the run parameters,
 * deep-merged over the defaults) and `refusal` (patterns of the refusal detector). Both are strict:
 * an unknown key or a wrong type is an error naming the file and the path.
 */
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { InputError } from "../errors.js";
import { RefusalDetector, type RefusalOptions } from "../safety/refusal/index.js";
import {
  ConfigError,
  configIssues,
  overridePaths,
  type ParamOrigins,
  type ParamOverrides,
  paramOverridesSchema,
} from "./params.js";

/** RefusalOptions; regexes and pattern ids are checked by compiling them. */
export const refusalFields = {
  extraRefusal: z.array(z.string()),
  extraPartial: z.array(z.string()),
  extraNotRefusal: z.array(z.string()),
  disable: z.array(z.string()),
};

export const refusalOptionsSchema = z
  .strictObject(refusalFields)
  .partial()
  .superRefine((options, ctx) => {
    try {
      new RefusalDetector(options);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      // The detector says "extraRefusal[2]: invalid regular expression ...".
      const match = /^(\w+)\[(\d+)\]: ([\s\S]*)$/.exec(error.message);
      ctx.addIssue({
        code: "custom",
        path: match ? [match[1] as string, Number(match[2])] : [],
        message: match ? (match[3] as string) : error.message,
      });
    }
  });

/** The pieces a sweep file schema can extend. */
export const configFileFields = {
  params: paramOverridesSchema,
  refusal: refusalOptionsSchema,
};

export const configFileSchema = z.strictObject(configFileFields).partial();

export interface RunConfigFile {
  path: string;
  params: ParamOverrides;
  /** null: the file has no `refusal` section. */
  refusal: RefusalOptions | null;
  /** Each value of `params` names this file as its origin. */
  origins: ParamOrigins;
}

/** Validates a parsed config document; errors read "<path>: params.window: ...". */
export function parseConfigValue(value: unknown, path: string): RunConfigFile {
  const result = configFileSchema.safeParse(value ?? {}, { reportInput: true });
  if (!result.success)
    throw new ConfigError(configIssues(result.error, configFileSchema, () => path));
  const params = result.data.params ?? {};
  const origins: ParamOrigins = {};
  for (const key of overridePaths(params)) origins[key] = { source: "config file", where: path };
  return { path, params, refusal: result.data.refusal ?? null, origins };
}

/** YAML or JSON (which is YAML) text as a value; a syntax error names the file. */
export function parseYamlText(text: string, path: string): unknown {
  try {
    return parseYaml(text);
  } catch (error) {
    throw new InputError(
      `${path}: not valid YAML or JSON (${(error as Error).message.split("\n")[0]})`,
    );
  }
}

/** A file's text; an unreadable one is an InputError naming what it was to be (`kind`). */
export function readTextFile(path: string, kind: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(
      `cannot read the ${kind} ${path}${code === "ENOENT" ? ": no such file" : ""}`,
    );
  }
}

/** Parses YAML or JSON text of a run config. */
export function parseConfigText(text: string, path: string): RunConfigFile {
  return parseConfigValue(parseYamlText(text, path), path);
}

export function readConfigFile(path: string): RunConfigFile {
  return parseConfigText(readTextFile(path, "run config"), path);
}
