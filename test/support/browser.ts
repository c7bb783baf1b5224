/**
 * Debian's Chromium (installed by the test set-up, scripts/ensure-chromium.sh) driven by
 * playwright-core, with the flags a closed network and root need: no sandbox, headless, no
 * first-run screens, no background networking.
 */
import { type Browser, chromium } from "playwright-core";
import { inject } from "vitest";

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: inject("chromiumPath"),
    headless: true,
    args: [
      "--no-sandbox",
      "--headless=new",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--metrics-recording-only",
    ],
  });
}
