/**
 * Entry point of a queue worker process, with the flags of `deepconf worker`:
 * `node dist/workers/inference-worker.js --redis URL ...` (or `node --import tsx
 * workers/inference-worker.ts ...`). It loads the worker command alone, not the whole CLI, so a
 * worker starts in about half the time (the chaos tests restart many).
 */
import { Command, CommanderError } from "commander";
import { processIO } from "../src/cli/io.js";
import { registerWorker } from "../src/cli/worker.js";
import { InputError } from "../src/errors.js";

const io = processIO;
const program = new Command("inference-worker")
  .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
  .exitOverride();
registerWorker(program, io);
for (const command of program.commands) {
  command.configureOutput({ writeOut: io.stdout, writeErr: io.stderr }).exitOverride();
}

let code = 0;
try {
  await program.parseAsync(["worker", ...process.argv.slice(2)], { from: "user" });
} catch (error) {
  if (error instanceof CommanderError) code = error.exitCode === 0 ? 0 : 2;
  else if (error instanceof InputError) {
    io.stderr(`deepconf worker: ${error.message}\n`);
    code = 2;
  } else {
    io.stderr(`deepconf worker: internal error: ${(error as Error).stack ?? String(error)}\n`);
    code = 1;
  }
}
process.exitCode = code;
// Everything is closed by now; should a socket still hold the event loop, it may not keep the
// process (an unref'd timer fires only while something else keeps the loop alive).
setTimeout(() => process.exit(code), 5000).unref();
