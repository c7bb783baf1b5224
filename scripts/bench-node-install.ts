/**
 * What bootstrapping a node costs: the project bundle a node receives, and the install it runs
 * there (INSTALL_APP: `npm ci --omit=dev`, then the other platforms' onnxruntime binaries
 * pruned), measured here on this machine's bash, Node.js and npm cache. The peer in the same run
 * is a full `npm ci` of the same bundle (development packages included, scripts off): what a
 * node would install without --omit=dev. Prints JSON.
 *
 *   npm run bench:node-install -- [--cold]
 *
 * --cold runs both installs with an empty npm cache, so every package comes from the registry
 * (the first bootstrap of a fresh node); the default uses this machine's cache.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { buildBundle } from "../src/cloud/nodes/bundle.js";
import { INSTALL_APP } from "../src/cloud/nodes/remote-scripts.js";

const { values } = parseArgs({ options: { cold: { type: "boolean", default: false } } });
const scratch = mkdtempSync(join(tmpdir(), "bench-node-install-"));
const env = {
  ...process.env,
  ...(values.cold ? { npm_config_cache: join(scratch, "npm-cache") } : {}),
};

function megabytes(path: string): number {
  return Number(spawnSync("du", ["-sm", path], { encoding: "utf8" }).stdout.split("\t")[0]);
}

function timed(command: string, args: string[], options: { input?: string; cwd?: string }) {
  const started = performance.now();
  const result = spawnSync(command, args, { ...options, env, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${command} failed:\n${result.stderr.slice(-2000)}`);
  return { seconds: Number(((performance.now() - started) / 1000).toFixed(1)), out: result.stdout };
}

try {
  const bundle = await buildBundle({ note: (line) => process.stderr.write(`${line}\n`) });
  const node = join(scratch, "node");
  spawnSync("mkdir", ["-p", node]);
  copyFileSync(bundle.file, join(node, `bundle-${bundle.hash}.tgz`));
  const runtime = timed("bash", ["-s", "--", node, bundle.hash, dirname(process.execPath), "cpu"], {
    input: INSTALL_APP,
  });
  const full = join(scratch, "full");
  spawnSync("mkdir", ["-p", full]);
  spawnSync("tar", ["-xzf", bundle.file, "-C", full]);
  const fullInstall = timed("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund"], {
    cwd: full,
  });
  const app = join(node, `app-${bundle.hash}`);
  const report = {
    cache: values.cold ? "empty (registry)" : "this machine's npm cache",
    bundle: { files: bundle.files, mib: Number((bundle.bytes / 2 ** 20).toFixed(2)) },
    node_install: {
      seconds: runtime.seconds,
      node_modules_mib: megabytes(join(app, "node_modules")),
      onnxruntime_node_mib: megabytes(join(app, "node_modules", "onnxruntime-node")),
    },
    full_npm_ci: {
      seconds: fullInstall.seconds,
      node_modules_mib: megabytes(join(full, "node_modules")),
    },
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
