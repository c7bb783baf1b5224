/**
 * A small `npm run chaos:sweep` (scripts/chaos-harness.ts) on real Redis (this file's own key
 * prefix): 50 instances on 3 worker processes while 4 random workers, each running a job, are
 * SIGKILLed (and started again), the collector in this process. Every instance must be on disk
 * exactly once (raw lines) and equal to the in-process launch of the same sweep.
 */
import { afterAll, describe, expect, test } from "vitest";
import { runChaos } from "../../scripts/chaos-harness.js";
import { loadSweep } from "../../src/sweep/directory.js";
import { deletePrefix, SHARED_REDIS, testPrefix } from "../support/queue.js";
import { expectExactlyOnce, writeSweepFile } from "../support/sweeps.js";
import { testTempDir } from "../support/tiny-model.js";

const prefix = testPrefix();
afterAll(async () => {
  await deletePrefix(prefix);
});

describe("chaos", () => {
  test("4 workers SIGKILLed mid-job during a 50-instance sweep: every instance exactly once, identical to the in-process run", async () => {
    const sweepFile = writeSweepFile({
      name: "chaos",
      limit: 25,
      methods: ["deepconf-low", "baseline"],
      shardSize: 5,
      maxNewTokens: 16,
    });
    const out = testTempDir("sweeps-");
    const referenceOut = testTempDir("reference-");
    const lines: string[] = [];
    const report = await runChaos({
      sweepFile,
      redis: SHARED_REDIS,
      prefix,
      out,
      referenceOut,
      cacheDir: testTempDir("cache-"),
      workers: 3,
      kills: 4,
      killEveryMs: [300, 800],
      lockDurationMs: 2000,
      stalledIntervalMs: 1000,
      seed: 7,
      log: (line) => lines.push(line),
    });
    console.info(JSON.stringify(report));
    expect(report, lines.join("\n")).toMatchObject({
      instances: 50,
      kills: 4,
      state: "done",
      exactly_once: true,
      identical: true,
      disk: { lines: 50, missing: 0, duplicate_lines: 0 },
    });
    // Kills hit workers holding jobs, and each such job was taken over by another worker (one
    // may have finished in the instant between choosing the victim and the kill).
    expect(report.kills_mid_job).toBeGreaterThanOrEqual(3);
    expect(report.not_taken_over).toBe(0);
    expect(report.recoveries + report.finished_before_kill).toBe(report.kills_mid_job);
    expect(report.recoveries).toBeGreaterThanOrEqual(3);
    // Each instance came through the stream; any sent twice was written once.
    expect(report.stream.written).toBe(50);
    // Lock 2 s + stalled checks of 1 s, a restarted worker's start and a loaded machine's slack.
    expect(report.recovery_ms.max).toBeLessThan(20_000);
    // Checked here again, independently of the harness's own count.
    await expectExactlyOnce(await loadSweep(out, report.sweep_id), out, referenceOut);
  }, 150_000);
});
