#!/usr/bin/env node
// Launcher for the compiled CLI: it exists before the build, so npm can link and chmod it.
try {
  await import("../dist/src/cli/main.js");
} catch (error) {
  if (
    error?.code === "ERR_MODULE_NOT_FOUND" &&
    String(error.message).includes("dist/src/cli/main.js")
  ) {
    process.stderr.write(
      "deepconf: the CLI is not built yet: run `npm run build` (npm ci does it)\n",
    );
    process.exit(1);
  }
  throw error;
}
