/**
 * A collector in a process of its own, for tests that kill it: `node --import tsx
 * test/support/collector-child.ts URL PREFIX SWEEP OUT`. Prints "written <run> <instance>" per
 * prediction written and "ready" once reading.
 */
import { startCollector } from "../../src/queue/collector.js";

const [redis = "", prefix = "", sweepId = "", out = ""] = process.argv.slice(2);
const collector = await startCollector({
  redis,
  prefix,
  sweepId,
  out,
  batch: 20,
  blockMs: 200,
  onPrediction: (p) => process.stdout.write(`written ${p.runId} ${p.instanceId}\n`),
  onProblem: (message) => process.stderr.write(`${message}\n`),
});
process.stdout.write("ready\n");
process.on("SIGTERM", () => void collector.stop());
await collector.done;
