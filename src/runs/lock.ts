/**
 * The lock a run directory holds while something writes it (a run, a rescore): `.lock` with the
 * writer's pid and host. A lock whose pid is dead on this host is stale and taken over; a lock of
 * another host cannot be checked and counts as live.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { basename, join } from "node:path";
import { InputError } from "../errors.js";

export const LOCK = ".lock";

export interface LockInfo {
  pid: number;
  host: string;
  started_at: string;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readLock(path: string): LockInfo | null {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return null;
  }
  try {
    const info = JSON.parse(text) as Partial<LockInfo>;
    if (typeof info.pid === "number" && typeof info.host === "string") return info as LockInfo;
  } catch {}
  // Unreadable (cut short while written): nobody can be shown to hold it.
  return null;
}

/** The live lock of a run directory, or null when none (or only a stale one) exists. */
export function liveLock(dir: string): LockInfo | null {
  const info = readLock(join(dir, LOCK));
  if (info === null) return null;
  if (info.host === hostname() && !pidAlive(info.pid)) return null;
  return info;
}

function lockedMessage(dir: string, info: LockInfo): string {
  const where = info.host === hostname() ? "" : ` on host ${info.host}`;
  return (
    `run ${basename(dir)} is still being written by pid ${info.pid}${where}; wait for it or stop it` +
    ` (if no such process exists, delete ${join(dir, LOCK)})`
  );
}

/** Throws an InputError when a live lock exists. */
export function assertUnlocked(dir: string): void {
  const info = liveLock(dir);
  if (info !== null) throw new InputError(lockedMessage(dir, info));
}

/**
 * Takes the lock of a run directory (which must exist); returns the function that releases it.
 * Throws an InputError when another live process holds it.
 */
export function acquireLock(dir: string): () => void {
  const path = join(dir, LOCK);
  const info: LockInfo = {
    pid: process.pid,
    host: hostname(),
    started_at: new Date().toISOString(),
  };
  let taken = false;
  for (let attempt = 0; attempt < 3 && !taken; attempt++) {
    try {
      writeFileSync(path, `${JSON.stringify(info)}\n`, { flag: "wx" });
      taken = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      assertUnlocked(dir);
      rmSync(path, { force: true });
    }
  }
  if (!taken) throw new InputError(`cannot take the lock ${path}: another process keeps taking it`);
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    if (readLock(path)?.pid === process.pid) rmSync(path, { force: true });
  };
}
