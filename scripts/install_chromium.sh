#!/usr/bin/env bash
# Install Debian's headless-capable Chromium for the browser tests (pytest -m browser), which
# render the HTML leaderboard and check its DOM and a screenshot. Needs root and apt-get.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  echo "install_chromium: $(/usr/bin/chromium --version 2>/dev/null || echo chromium) already present" >&2
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install_chromium: run as root on Debian or Ubuntu (apt-get install chromium); the browser tests skip without it" >&2
  exit 1
fi
echo "install_chromium: installing chromium and fonts" >&2
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  chromium fonts-dejavu-core >/dev/null
echo "install_chromium: $(/usr/bin/chromium --version 2>/dev/null || echo done)" >&2
