#!/usr/bin/env bash
# Install Debian's headless-capable Chromium when it is missing; the HTML report test
# (tests/forecast/test_render.py) opens the report in it. A no-op when /usr/bin/chromium exists.
set -euo pipefail
CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
    echo "setup-chromium: $CHROMIUM is missing; run as root (or: sudo apt-get install -y chromium)" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup-chromium: $CHROMIUM is missing and this is not Debian (no apt-get);" \
        "install Chromium by hand so that $CHROMIUM exists" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
if [ ! -x "$CHROMIUM" ]; then
    echo "setup-chromium: apt-get finished but $CHROMIUM is still missing" >&2
    exit 1
fi
"$CHROMIUM" --version >&2
