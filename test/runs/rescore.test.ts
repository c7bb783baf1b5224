/** deepconf rescore: the run's own patterns by default, atomic rewrites, and the run lock. */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { InputError } from "../../src/errors.js";
import { RunDirectory } from "../../src/runs/directory.js";
import { acquireLock, LOCK, liveLock } from "../../src/runs/lock.js";
import { deepconf } from "../support/cli.js";
import { testTempDir, tinyModelDir } from "../support/tiny-model.js";

/** A pid that no process has any more. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", ""]);
  return child.pid as number;
}

function lines(dir: string) {
  return readFileSync(join(dir, "predictions.jsonl"), "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line));
}

/** A finished run whose config calls every answer a refusal (a pattern matching any text). */
async function refusingRun(): Promise<string> {
  const out = testTempDir("rescore-");
  const config = join(out, "run.yaml");
  writeFileSync(config, 'refusal:\n  extraRefusal: ["[\\\\s\\\\S]"]\n');
  const run = await deepconf(
    "run",
    "--model",
    tinyModelDir(),
    "--benchmark",
    "sample",
    "--limit",
    "4",
    "--out",
    out,
    "--cache-dir",
    join(out, "cache"),
    "--max-new-tokens",
    "4",
    "--budget",
    "3",
    "--warmup",
    "2",
    "--config",
    config,
  );
  expect(run.code).toBe(0);
  const dirs = readdirSync(out).filter((name) => name !== "cache" && name !== "run.yaml");
  expect(dirs).toHaveLength(1);
  const dir = join(out, dirs[0] as string);
  expect(existsSync(join(dir, LOCK))).toBe(false);
  for (const p of lines(dir)) expect(p.refused).toBe(true);
  return dir;
}

describe("deepconf rescore", () => {
  test("judges with the run's recorded patterns unless --config gives others", async () => {
    const dir = await refusingRun();
    const before = lines(dir);
    const same = await deepconf("rescore", dir, "--json");
    expect(same.stderr).toBe("");
    expect(same.code).toBe(0);
    const report = JSON.parse(same.stdout);
    expect(report).toMatchObject({ n: 4, changed: 0, tracesChanged: 0, refusalSource: "run" });
    expect(lines(dir).map((p) => p.refused)).toEqual(before.map((p) => p.refused));

    // A config without the pattern: the built-in patterns judge random text a compliance.
    const plain = join(dir, "..", "plain.yaml");
    writeFileSync(plain, "refusal: {}\n");
    const changed = await deepconf("rescore", dir, "--config", plain, "--json");
    expect(changed.code).toBe(0);
    expect(JSON.parse(changed.stdout)).toMatchObject({ refusalSource: "given", refusal: {} });
    expect(JSON.parse(changed.stdout).changed).toBeGreaterThan(0);
    expect(lines(dir).some((p) => !p.refused)).toBe(true);
    const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
    expect(manifest.rescored.map((r: { refusal_source: string }) => r.refusal_source)).toEqual([
      "run",
      "given",
    ]);
    // Written through temporary files and renamed: none is left behind.
    expect(readdirSync(dir).filter((name) => name.includes(".tmp-"))).toEqual([]);
    expect(existsSync(join(dir, LOCK))).toBe(false);
  }, 60_000);

  test("a run still being written is refused; a stale lock is not", async () => {
    const dir = await refusingRun();
    const predictions = readFileSync(join(dir, "predictions.jsonl"), "utf8");
    // This test process is alive: its pid holds the lock.
    writeFileSync(
      join(dir, LOCK),
      JSON.stringify({ pid: process.pid, host: hostname(), started_at: "" }),
    );
    const refused = await deepconf("rescore", dir, "--json");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      `run ${dir.split("/").pop()} is still being written by pid ${process.pid}; wait for it or stop it`,
    );
    expect(readFileSync(join(dir, "predictions.jsonl"), "utf8")).toBe(predictions);
    expect(readdirSync(dir).filter((name) => name.startsWith("predictions.before"))).toEqual([]);

    const pid = deadPid();
    writeFileSync(join(dir, LOCK), JSON.stringify({ pid, host: hostname(), started_at: "" }));
    const stale = await deepconf("rescore", dir, "--json");
    expect(stale.stderr).toBe("");
    expect(stale.code).toBe(0);
    expect(existsSync(join(dir, LOCK))).toBe(false);
  }, 60_000);
});

describe("run lock", () => {
  test("one writer at a time; release removes the lock; a dead pid's lock is taken over", () => {
    const dir = testTempDir("lock-");
    const release = acquireLock(dir);
    expect(liveLock(dir)).toMatchObject({ pid: process.pid, host: hostname() });
    expect(() => acquireLock(dir)).toThrow(InputError);
    expect(() => acquireLock(dir)).toThrow(
      /still being written by pid \d+; wait for it or stop it/,
    );
    release();
    expect(existsSync(join(dir, LOCK))).toBe(false);
    expect(liveLock(dir)).toBeNull();

    writeFileSync(join(dir, LOCK), JSON.stringify({ pid: deadPid(), host: hostname() }));
    expect(liveLock(dir)).toBeNull();
    const again = acquireLock(dir);
    expect(liveLock(dir)?.pid).toBe(process.pid);
    again();

    // Another host's lock cannot be checked: it counts as live, and the message names the host.
    writeFileSync(join(dir, LOCK), JSON.stringify({ pid: 1, host: "elsewhere" }));
    expect(() => acquireLock(dir)).toThrow(/by pid 1 on host elsewhere/);
  });

  test("a run directory holds the lock from open to close", async () => {
    const dir = join(testTempDir("lock-"), "run");
    const manifest = { run_id: "run", created_at: "", config: {} };
    const directory = await RunDirectory.open(dir, manifest);
    await expect(RunDirectory.open(dir, manifest)).rejects.toThrow(/still being written/);
    directory.close();
    const reopened = await RunDirectory.open(dir, manifest);
    reopened.close();
    expect(existsSync(join(dir, LOCK))).toBe(false);
  });
});
