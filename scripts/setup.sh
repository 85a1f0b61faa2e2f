#!/usr/bin/env bash
# Sets up everything the project needs on a fresh Debian machine:
#   - Debian packages (a CJK font for Simplified Chinese, incl. rare characters) when run as root
#   - a virtual environment in .venv with the pinned Python packages
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
# fonts: Simplified Chinese incl. rare characters; chromium: browser tests and screenshots;
# libpango*/libharfbuzz-subset0: WeasyPrint (PDF bulletins); poppler-utils: pdftoppm (PDF checks);
# postgresql: the city tier (tests start a throwaway server).
DEB_PACKAGES=(fonts-noto-cjk fonts-noto-cjk-extra fonts-hanazono chromium
              libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils postgresql)

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: these Debian packages are missing: ${missing[*]}" >&2
    echo "setup: ask an administrator to run:  sudo apt-get install ${missing[*]}" >&2
    echo "setup: (continuing; Chinese text may render as boxes until they are installed)" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PY --version)"
  $PY -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "setup: installing Python packages into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[test]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi
if [ ! -f .fonts/cmaps.json ]; then
  .venv/bin/python scripts/prepare_fonts.py || echo "setup: fonts not prepared; Chinese may not render" >&2
fi
echo "setup: ready"
