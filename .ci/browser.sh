#!/usr/bin/env bash
# The report's browser tests (tests/test_report_browser.py, tests/test_export.py) need Debian's
# chromium; they skip without it. CI runs as root with Debian's registry reachable: install it
# when missing, so CI runs them instead of skipping.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "chromium not found and not root: the browser tests will skip" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if apt-get update -qq && apt-get install -y -qq chromium >/dev/null; then
  command -v chromium
else
  # A registry hiccup must not fail the whole run: the browser tests then skip, and say why.
  echo "chromium could not be installed: the browser tests will skip" >&2
fi
