/**
 * The project as a node receives it: the checkout's tracked files (lockfile included) plus the
 * compiled dist/, in one gzipped tarball named by a hash of its contents, so a node that already
 * has this exact code skips the upload and the install.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { InputError } from "../../errors.js";

const run = promisify(execFile);

export interface Bundle {
  /** The .tgz on this machine. */
  file: string;
  /** First 16 hex digits of the contents' SHA-256: the node's app folder is named by it. */
  hash: string;
  files: number;
  bytes: number;
}

/** The folder holding this package's package.json (works from src/ under tsx and from dist/). */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) || !existsSync(join(dir, "bin", "deepconf.js"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("cannot find the deepconf-safety package root");
    dir = parent;
  }
  return dir;
}

function filesUnder(root: string, dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(root, path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

function newestMtime(root: string, dir: string): number {
  if (!existsSync(join(root, dir))) return 0;
  return Math.max(0, ...filesUnder(root, dir).map((file) => statSync(join(root, file)).mtimeMs));
}

/**
 * Makes sure dist/ holds the current sources: in a checkout with TypeScript installed a stale or
 * missing build is rebuilt (a node must not run older code than the orchestrator's); elsewhere
 * a missing build is an error.
 */
async function ensureBuilt(root: string, note: (line: string) => void): Promise<void> {
  const entry = join(root, "dist", "src", "cli", "main.js");
  const built = existsSync(entry) ? newestMtime(root, "dist") : 0;
  const sources = Math.max(newestMtime(root, "src"), newestMtime(root, "workers"));
  if (built > 0 && built >= sources) return;
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  if (!existsSync(tsc)) {
    if (built > 0) return;
    throw new InputError(`${root} has no dist/: run \`npm run build\` there first`);
  }
  note(built === 0 ? "building dist/ (tsc)" : "dist/ is older than src/: rebuilding (tsc)");
  await run(process.execPath, [tsc, "-p", join(root, "tsconfig.json")], { cwd: root });
}

/** Tracked files (git ls-files) when this is a checkout, else the published package's files. */
async function trackedFiles(root: string): Promise<string[]> {
  if (existsSync(join(root, ".git"))) {
    const { stdout } = await run("git", ["ls-files", "-z"], { cwd: root, maxBuffer: 64 << 20 });
    return stdout.split("\0").filter((file) => file !== "" && existsSync(join(root, file)));
  }
  return ["package.json", "package-lock.json", ".npmrc", "bin/deepconf.js", "config"]
    .filter((path) => existsSync(join(root, path)))
    .flatMap((path) => (statSync(join(root, path)).isDirectory() ? filesUnder(root, path) : path));
}

export async function buildBundle(options: { note?: (line: string) => void } = {}) {
  const note = options.note ?? (() => undefined);
  const root = projectRoot();
  await ensureBuilt(root, note);
  const files = [...new Set([...(await trackedFiles(root)), ...filesUnder(root, "dist")])].sort();
  if (!files.includes("package-lock.json")) {
    throw new InputError(`${root} has no package-lock.json: a node installs from the lockfile`);
  }
  const digest = createHash("sha256");
  for (const file of files) {
    digest.update(`${file}\0`);
    digest.update(
      createHash("sha256")
        .update(readFileSync(join(root, file)))
        .digest(),
    );
  }
  const hash = digest.digest("hex").slice(0, 16);
  const dir = await mkdtemp(join(tmpdir(), "deepconf-bundle-"));
  const list = join(dir, "files");
  const file = join(dir, `deepconf-${hash}.tgz`);
  await writeFile(list, `${files.join("\0")}\0`);
  await run("tar", ["-czf", file, "-C", root, "--null", "-T", list]);
  const bundle: Bundle = { file, hash, files: files.length, bytes: statSync(file).size };
  return bundle;
}
