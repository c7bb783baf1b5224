/**
 * Runs once before all test files: one temporary root for every file the tests write (removed
 * at the end), the tiny Qwen3 test model built once into it, a Redis on 127.0.0.1:6379 for
 * the queue tests (started by scripts/ensure-redis.sh when none answers), OpenSSH's sshd for
 * the SSH tests (installed by scripts/ensure-sshd.sh when missing; the tests start their own)
 * and Debian's Chromium for the dashboard's browser tests (scripts/ensure-chromium.sh).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import { buildTestModel } from "../../src/inference/testmodel/index.js";

declare module "vitest" {
  export interface ProvidedContext {
    testRoot: string;
    tinyModelDir: string;
    chromiumPath: string;
  }
}

/** Starts Redis when none answers, so `npm test` alone works on a fresh machine. */
function ensureRedis(): void {
  const script = fileURLToPath(new URL("../../scripts/ensure-redis.sh", import.meta.url));
  try {
    execFileSync("bash", [script], { stdio: ["ignore", "inherit", "inherit"], timeout: 300_000 });
  } catch {
    throw new Error(
      "the queue tests need Redis on 127.0.0.1:6379 and scripts/ensure-redis.sh could not start one",
    );
  }
}

/** Installs OpenSSH's server when missing; test/support/sshd.ts starts private instances. */
function ensureSshd(): void {
  const script = fileURLToPath(new URL("../../scripts/ensure-sshd.sh", import.meta.url));
  try {
    execFileSync("bash", [script], { stdio: ["ignore", "inherit", "inherit"], timeout: 300_000 });
  } catch {
    throw new Error(
      "the SSH tests need OpenSSH's server at /usr/sbin/sshd and scripts/ensure-sshd.sh could " +
        "not install it (apt-get install openssh-server)",
    );
  }
}

/** Installs Debian's Chromium when missing (the dashboard tests drive it); returns its path. */
function ensureChromium(): string {
  const script = fileURLToPath(new URL("../../scripts/ensure-chromium.sh", import.meta.url));
  try {
    const out = execFileSync("bash", [script], {
      stdio: ["ignore", "pipe", "inherit"],
      timeout: 600_000,
    });
    return out.toString().trim().split("\n").at(-1) as string;
  } catch {
    throw new Error(
      "the dashboard tests need Chromium and scripts/ensure-chromium.sh could not install it " +
        "(apt-get install chromium, or set CHROMIUM_PATH)",
    );
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  ensureRedis();
  ensureSshd();
  const chromium = ensureChromium();
  const root = mkdtempSync(join(tmpdir(), "deepconf-test-"));
  const tiny = join(root, "models", "qwen3-tiny");
  await buildTestModel({ out: tiny, shape: "tiny", seed: 1 });
  project.provide("testRoot", root);
  project.provide("tinyModelDir", tiny);
  project.provide("chromiumPath", chromium);
  return () => rmSync(root, { recursive: true, force: true });
}
