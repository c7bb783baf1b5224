/**
 * Turns a fresh node into a worker host over one SSH connection: Node.js of the orchestrator's
 * major version, this checkout's code, its runtime dependencies, the models pre-pulled, and the
 * worker under the supervisor. Every step is a script with quoted arguments (remote-scripts.ts);
 * secrets go into the 0600 worker.env over SFTP.
 */
import type { SshConnection } from "../ssh/connection.js";
import { shellCommand } from "../ssh/shell.js";
import type { Bundle } from "./bundle.js";
import {
  FIND_NODE,
  GPU_PROBE,
  INSTALL_APP,
  INSTALL_NODE,
  PREPARE_DIR,
  REMOTE,
  RESTART_WORKER,
  START_SUPERVISOR,
  STOP_SUPERVISOR,
  SUPERVISOR,
  WITH_ENV,
} from "./remote-scripts.js";
import type { GpuProbe } from "./state.js";

const NODE_DIST_URL = "https://nodejs.org/dist";

/** A remote step that failed: says which, with the tail of what it printed. */
export class BootstrapError extends Error {
  override readonly name = "BootstrapError";
}

/** Runs a script from remote-scripts.ts with quoted arguments; throws on a non-zero exit. */
export async function runScript(
  connection: SshConnection,
  what: string,
  script: string,
  args: readonly string[],
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<string> {
  const result = await connection.exec(shellCommand(["bash", "-s", "--", ...args]), {
    ...options,
    stdin: script,
  });
  if (result.code !== 0) {
    const tail = `${result.stderr}\n${result.stdout}`.trim().split("\n").slice(-12).join("\n");
    const status = result.code === null ? `signal ${result.signal}` : `status ${result.code}`;
    throw new BootstrapError(`${what} failed on the node (${status})${tail ? `:\n${tail}` : ""}`);
  }
  return result.stdout;
}

/** nvidia-smi's answer, or an error saying what is wrong with the GPU. */
export async function probeGpu(connection: SshConnection, signal?: AbortSignal): Promise<GpuProbe> {
  const out = await runScript(connection, "the GPU probe (nvidia-smi)", GPU_PROBE, [], {
    signal,
    timeoutMs: 60_000,
  });
  return parseGpuProbe(out);
}

function parseGpuProbe(out: string): GpuProbe {
  const lines = out.split("\n").map((line) => line.trim());
  const gpus = lines.filter((line) => line !== "" && !line.startsWith("CUDA Version"));
  const first = gpus[0]?.split(",").map((field) => field.trim());
  if (first === undefined || first[0] === undefined || first[0] === "") {
    throw new BootstrapError(`nvidia-smi listed no GPU: ${out.trim() || "(no output)"}`);
  }
  const memory = Number(first[1]);
  const cuda = /CUDA Version:\s*([\d.]+)/.exec(out)?.[1] ?? null;
  return {
    name: first[0],
    memoryMiB: Number.isFinite(memory) ? memory : null,
    driver: first[2] || null,
    cuda,
    count: gpus.length,
  };
}

export interface BootstrapOptions {
  /** Folder on the node ("deepconf" is under the login's home). */
  remoteDir: string;
  bundle: Bundle;
  device: "cuda" | "cpu";
  /** Node.js release to install when the node has none of its major version (default: ours). */
  nodeVersion?: string;
  nodeDistUrl?: string;
  /** Written to the node's worker.env (0600) with DEEPCONF_CACHE; never on a command line. */
  env: Record<string, string>;
  /** Hub models to download before the worker starts (`id[@revision]`), with their dtype. */
  pull: Array<{ model: string; dtype: string }>;
  signal?: AbortSignal;
  note: (line: string) => void;
}

export interface BootstrapResult {
  /** Absolute folder on the node. */
  dir: string;
  /** The folder holding the node binary used. */
  nodeBin: string;
  install: { seconds: number; nodeModulesMiB: number | null } | null;
}

/** The worker.env text: KEY='value' lines, each value quoted for the shell that sources it. */
export function envFile(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([key, value]) => {
      if (!/^[A-Z_][A-Z0-9_]*$/.test(key)) throw new Error(`bad environment name ${key}`);
      return `${key}=${shellCommand([value])}\n`;
    })
    .join("");
}

/** Everything up to a started supervisor. */
export async function bootstrapNode(
  connection: SshConnection,
  options: BootstrapOptions,
): Promise<BootstrapResult> {
  const { signal, note } = options;
  const dir = (
    await runScript(connection, "creating the node folder", PREPARE_DIR, [options.remoteDir])
  ).trim();

  const version = options.nodeVersion ?? process.version;
  const major = version.replace(/^v/, "").split(".")[0] ?? "";
  let nodeBin = (
    await runScript(connection, "looking for Node.js", FIND_NODE, [dir, major])
  ).trim();
  if (nodeBin === "") {
    note(`installing Node.js ${version} (official tarball, checksum verified)`);
    const out = await runScript(
      connection,
      `installing Node.js ${version}`,
      INSTALL_NODE,
      [dir, version, (options.nodeDistUrl ?? NODE_DIST_URL).replace(/\/+$/, "")],
      { signal, timeoutMs: 10 * 60_000 },
    );
    nodeBin = out.trim().split("\n").at(-1) ?? "";
  } else note(`Node.js ${major}.x found in ${nodeBin}`);

  const { bundle } = options;
  note(`uploading the project (${bundle.files} files, ${(bundle.bytes / 2 ** 20).toFixed(1)} MiB)`);
  await connection.upload(bundle.file, `${dir}/bundle-${bundle.hash}.tgz`);
  note(
    `installing runtime dependencies (npm ci --omit=dev${options.device === "cuda" ? ", CUDA provider" : ""})`,
  );
  const installOut = await runScript(
    connection,
    "installing the project (npm ci)",
    INSTALL_APP,
    [dir, bundle.hash, nodeBin, options.device],
    { signal, timeoutMs: 30 * 60_000 },
  );
  const seconds = /install_seconds=(\d+)/.exec(installOut)?.[1];
  const mib = /node_modules_mib=(\d+)/.exec(installOut)?.[1];
  const install =
    seconds === undefined
      ? null
      : { seconds: Number(seconds), nodeModulesMiB: mib === undefined ? null : Number(mib) };
  if (install !== null) {
    note(`installed in ${install.seconds} s, node_modules ${install.nodeModulesMiB ?? "?"} MiB`);
  } else note("this code is already installed there");

  const env = { ...options.env, DEEPCONF_CACHE: `${dir}/${REMOTE.cache}` };
  await connection.writeFile(`${dir}/${REMOTE.env}`, envFile(env), 0o600);
  for (const { model, dtype } of options.pull) {
    note(`pre-pulling ${model} (${dtype}) into the node's cache`);
    await runScript(
      connection,
      `pulling ${model}`,
      WITH_ENV,
      [dir, nodeBin, "model", "pull", model, "--dtype", dtype],
      { signal, timeoutMs: 60 * 60_000 },
    );
  }
  await connection.writeFile(`${dir}/${REMOTE.supervisor}`, SUPERVISOR, 0o700);
  return { dir, nodeBin, install };
}

/** (Re)starts the supervisor with the worker's arguments. */
export async function startWorker(
  connection: SshConnection,
  dir: string,
  nodeBin: string,
  workerArgs: readonly string[],
): Promise<void> {
  await runScript(connection, "starting the worker", START_SUPERVISOR, [
    dir,
    nodeBin,
    ...workerArgs,
  ]);
}

/** Writes redis.env (0600): the worker's way to the orchestrator's Redis through the tunnel. */
export async function writeRedisEnv(
  connection: SshConnection,
  dir: string,
  redisUrl: string,
): Promise<void> {
  await connection.writeFile(`${dir}/${REMOTE.redisEnv}`, envFile({ REDIS_URL: redisUrl }), 0o600);
}

/** Restarts the worker so it reads redis.env again (the tunnel moved to another port). */
export async function restartWorker(connection: SshConnection, dir: string): Promise<void> {
  await runScript(connection, "restarting the worker", RESTART_WORKER, [dir]);
}

/** Stops the supervisor and its worker; the worker hands its job back (needs the tunnel). */
export async function stopWorker(connection: SshConnection, dir: string): Promise<void> {
  await runScript(connection, "stopping the worker", STOP_SUPERVISOR, [dir], {
    timeoutMs: 30_000,
  });
}
