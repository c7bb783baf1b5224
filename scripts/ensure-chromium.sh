#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed (the dashboard tests drive it with playwright-core),
# installing the `chromium` package with apt-get when it is missing and this machine allows that.
# Prints the browser's path on stdout; what it did on stderr; exit 1 when it cannot.
set -euo pipefail

find_chromium() {
  for candidate in "${CHROMIUM_PATH:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

if find_chromium; then exit 0; fi

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  echo "ensure-chromium: installing chromium with apt-get" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null 2>&1 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >/dev/null; }
else
  echo "ensure-chromium: no Chromium at /usr/bin/chromium and no way to install it: install it (apt-get install chromium) or set CHROMIUM_PATH" >&2
  exit 1
fi

if find_chromium; then exit 0; fi
echo "ensure-chromium: chromium was installed but /usr/bin/chromium is still missing" >&2
exit 1
