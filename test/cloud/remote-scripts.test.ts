/**
 * The node-side scripts, run by the real bash they are written for (here, not over SSH: the
 * end-to-end test drives them through sshd). Node.js install against a local stand-in of
 * nodejs.org/dist: the checksum is verified and a mismatch installs nothing. The supervisor:
 * restarts a dying worker with backoff, picks up a rewritten redis.env, and TERM stops both.
 */
import { execFile, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { envFile } from "../../src/cloud/nodes/bootstrap.js";
import {
  INSTALL_NODE,
  REMOTE,
  START_SUPERVISOR,
  STOP_SUPERVISOR,
  SUPERVISOR,
} from "../../src/cloud/nodes/remote-scripts.js";
import { until } from "../support/queue.js";
import { testTempDir } from "../support/tiny-model.js";

const run = promisify(execFile);
const VERSION = "v20.99.0";
const arch = process.arch === "arm64" ? "arm64" : "x64";

/**
 * `bash -s -- args` with the script on stdin, as runScript sends it over SSH. Asynchronous: the
 * dist stand-in answers from this process.
 */
function bash(script: string, args: string[]) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn("bash", ["-s", "--", ...args], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(script);
  });
}

let server: Server;
let base: string;
let tamper = false;

beforeAll(async () => {
  // A release tarball shaped like nodejs.org's, and its SHASUMS256.txt.
  const dist = testTempDir("node-dist-");
  const name = `node-${VERSION}-linux-${arch}`;
  mkdirSync(join(dist, name, "bin"), { recursive: true });
  writeFileSync(join(dist, name, "bin", "node"), `#!/bin/sh\necho ${VERSION}\n`, { mode: 0o755 });
  await run("tar", ["-cJf", join(dist, `${name}.tar.xz`), "-C", dist, name]);
  const tarball = readFileSync(join(dist, `${name}.tar.xz`));
  const sum = createHash("sha256").update(tarball).digest("hex");
  const sums = `${"0".repeat(64)}  node-${VERSION}-darwin-arm64.tar.gz\n${sum}  ${name}.tar.xz\n`;
  server = createServer((req, res) => {
    if (req.url === `/${VERSION}/${name}.tar.xz`) {
      const body = tamper ? Buffer.concat([tarball, Buffer.from("x")]) : tarball;
      res.writeHead(200, { "content-type": "application/x-xz" }).end(body);
    } else if (req.url === `/${VERSION}/SHASUMS256.txt`) {
      res.writeHead(200, { "content-type": "text/plain" }).end(sums);
    } else res.writeHead(404).end("Not Found");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("INSTALL_NODE", () => {
  test("installs the tarball for this architecture once its SHA-256 matches", async () => {
    const dir = testTempDir("node-install-");
    const result = await bash(INSTALL_NODE, [dir, VERSION, base]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe(`${dir}/node/bin`);
    expect(spawnSync(join(dir, "node", "bin", "node"), { encoding: "utf8" }).stdout.trim()).toBe(
      VERSION,
    );
  });

  test("a tarball that does not match SHASUMS256.txt is refused and nothing is installed", async () => {
    const dir = testTempDir("node-install-");
    tamper = true;
    try {
      const result = await bash(INSTALL_NODE, [dir, VERSION, base]);
      expect(result.status).toBe(4);
      expect(result.stderr).toMatch(/checksum mismatch for node-v20\.99\.0-linux-/);
      expect(existsSync(join(dir, "node"))).toBe(false);
    } finally {
      tamper = false;
    }
  });

  test("a release that does not exist fails with curl's 404", async () => {
    const dir = testTempDir("node-install-");
    const result = await bash(INSTALL_NODE, [dir, "v20.0.404", base]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/404/);
  });
});

describe("the supervisor", () => {
  test("restarts a worker that exits, re-reads redis.env, and TERM stops both", async () => {
    const dir = testTempDir("supervised-");
    const bin = join(dir, "fake-node-bin");
    mkdirSync(join(dir, "logs"), { recursive: true });
    mkdirSync(join(dir, REMOTE.app, "bin"), { recursive: true });
    mkdirSync(bin);
    // A "node" that records each start with the REDIS_URL it saw, then lives 0.3 s (or until
    // TERM when told to stay).
    writeFileSync(
      join(bin, "node"),
      [
        "#!/bin/bash",
        `echo "start $REDIS_URL $HF_TOKEN_SEEN" >> "${join(dir, "starts")}"`,
        `if [ -f "${join(dir, "stay")}" ]; then trap 'exit 0' TERM; while true; do sleep 0.1; done; fi`,
        "sleep 0.3; exit 3",
      ].join("\n"),
      { mode: 0o755 },
    );
    writeFileSync(join(dir, REMOTE.env), envFile({ HF_TOKEN_SEEN: "token with 'quotes' $(x)" }));
    writeFileSync(join(dir, REMOTE.redisEnv), envFile({ REDIS_URL: "redis://127.0.0.1:1111/0" }));
    writeFileSync(join(dir, REMOTE.supervisor), SUPERVISOR);
    const started = await bash(START_SUPERVISOR, [dir, bin, "--prefix", "p q"]);
    expect(started.status, started.stderr).toBe(0);
    const starts = () =>
      existsSync(join(dir, "starts"))
        ? readFileSync(join(dir, "starts"), "utf8").trim().split("\n")
        : [];
    // Exits after 0.3 s; restarts after 1 s, then 2 s.
    await until(() => starts().length >= 2, { timeoutMs: 10_000, what: "a restart" });
    expect(starts()[0]).toBe("start redis://127.0.0.1:1111/0 token with 'quotes' $(x)");
    writeFileSync(join(dir, REMOTE.redisEnv), envFile({ REDIS_URL: "redis://127.0.0.1:2222/0" }));
    writeFileSync(join(dir, "stay"), "");
    await until(() => starts().some((line) => line.includes(":2222/")), {
      timeoutMs: 10_000,
      what: "a start with the new port",
    });
    const log = readFileSync(join(dir, REMOTE.supervisorLog), "utf8");
    // Seconds are whole (date +%s): a 0.3 s run reads as 0 s or 1 s.
    expect(log).toMatch(/worker exited with status 3 after [01]s; restarting in 1s/);
    expect(log).toMatch(/restarting in 2s/);
    const supervisor = Number(readFileSync(join(dir, REMOTE.supervisorPid), "utf8"));
    const worker = Number(readFileSync(join(dir, REMOTE.workerPid), "utf8"));
    const stopped = await bash(STOP_SUPERVISOR, [dir]);
    expect(stopped.status, stopped.stderr).toBe(0);
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect(alive(supervisor)).toBe(false);
    expect(alive(worker)).toBe(false);
    expect(existsSync(join(dir, REMOTE.supervisorPid))).toBe(false);
  }, 30_000);
});
