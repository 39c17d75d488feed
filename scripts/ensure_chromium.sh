#!/usr/bin/env bash
# Make Debian's chromium available at /usr/bin/chromium for the browser test (Playwright
# drives it; nothing is downloaded at test time). Installs it from the Debian packages
# when missing (as root); used by CI.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing chromium from the Debian packages" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "chromium is not installed and cannot be installed here (needs root and apt-get)" >&2
  exit 1
fi
[ -x /usr/bin/chromium ] || { echo "chromium did not install at /usr/bin/chromium" >&2; exit 1; }
