#!/usr/bin/env bash
# Make sure the browser tests (tests/e2e) and `python -m bench.app` have a browser: Debian's Chromium and its
# chromedriver at /usr/bin, installed with apt when either is missing (needs root, as on CI), plus a CJK font
# (fonts-noto-cjk) when none is installed, so Chinese in the screenshots under artifacts/e2e/ is not drawn as boxes.
# `make test` does not call this: run by hand without a browser, the browser tests skip (with CI=true they fail).
set -euo pipefail
log() { echo "ensure-chromium: $*" >&2; }

packages=()
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  packages+=(chromium chromium-driver)
fi
if ! command -v fc-list >/dev/null 2>&1 || [ -z "$(fc-list :lang=zh family 2>/dev/null)" ]; then
  packages+=(fonts-noto-cjk)
fi
if [ ${#packages[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    log "missing ${packages[*]} and not root: install them with apt-get (the browser tests skip without a browser)"
    exit 1
  fi
  log "installing ${packages[*]} from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >&2
fi
log "$(/usr/bin/chromium --version 2>/dev/null | tail -n 1); $(/usr/bin/chromedriver --version | cut -d' ' -f1-2)"
