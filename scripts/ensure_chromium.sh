#!/usr/bin/env bash
# The browser test drives Debian's chromium through Playwright
# (executable_path=/usr/bin/chromium; no `playwright install`, which downloads a
# browser build). Install it where it is missing, on Debian or Ubuntu.
set -euo pipefail
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "ensure_chromium: $CHROMIUM not found and apt-get is not available." >&2
  echo "Install Chromium and set CHROMIUM_PATH to its binary to run the browser test." >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "ensure_chromium: installing Debian's chromium (for the browser test)"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
