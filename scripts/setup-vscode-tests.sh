#!/usr/bin/env bash
# Installs everything the VS Code client's tests need: the extension's npm packages, Debian's
# Chromium, and code-server (a real VS Code). Idempotent; each step is skipped when done.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
EXT="$REPO/editor-clients/vscode"
CODE_SERVER_VERSION="4.100.3"
CACHE="${GEMINI_CHAT_CACHE:-$HOME/.cache/gemini-chat}"
CS_DIR="$CACHE/code-server-$CODE_SERVER_VERSION"

log() { printf 'setup-vscode-tests: %s\n' "$*" >&2; }

# code-server's native modules (argon2) build with node-gyp, which would download Node's headers
# from nodejs.org: unreachable here. Debian's nodejs ships them under /usr/include/node.
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node_version.h ]; then
  export npm_config_nodedir=/usr
fi

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=0
apt_install() {
  # apt-get update only once, and only when something is actually missing.
  if [ "$apt_updated" -eq 0 ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  local out
  out="$(mktemp)"
  # apt's progress is noise in a test run: show it only when the install fails.
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >"$out" 2>&1; then
    cat "$out" >&2
    rm -f "$out"
    return 1
  fi
  rm -f "$out"
}

missing_debs() {
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
  done
}

install_debs() {
  local missing
  missing="$(missing_debs chromium ripgrep libkrb5-dev | tr '\n' ' ')"
  if [ -n "${missing// /}" ]; then
    log "apt-get install $missing"
    # shellcheck disable=SC2086
    apt_install $missing
  fi
}

install_node_modules() {
  # npm ci is slow-ish; skip it while the lock file is unchanged since the last install.
  local stamp="$EXT/node_modules/.package-lock.json"
  if [ -f "$stamp" ] && [ "$stamp" -nt "$EXT/package-lock.json" ]; then
    return
  fi
  log "npm ci in editor-clients/vscode"
  (cd "$EXT" && npm ci --no-audit --no-fund --loglevel=error)
}

seed_ripgrep_cache() {
  # @vscode/ripgrep's postinstall downloads from GitHub, which is unreachable: hand it Debian's rg.
  local tmp="$1"
  local cache="$tmp/vscode-ripgrep-cache-1.15.11"
  local name="ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
  mkdir -p "$cache" "$tmp/rg-bin"
  cp "$(command -v rg)" "$tmp/rg-bin/rg"
  tar -czf "$cache/$name" -C "$tmp/rg-bin" rg
}

install_code_server() {
  if [ -x "$CS_DIR/node_modules/.bin/code-server" ]; then
    return
  fi
  log "npm install code-server@$CODE_SERVER_VERSION into $CS_DIR"
  local tmp
  tmp="$(mktemp -d)"
  seed_ripgrep_cache "$tmp"
  rm -rf "$CS_DIR.partial"
  mkdir -p "$CS_DIR.partial"
  (
    cd "$CS_DIR.partial"
    echo '{"name":"code-server-cache","private":true}' >package.json
    TMPDIR="$tmp" npm_config_unsafe_perm=true npm_config_yes=true \
      npm install --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION"
  )
  rm -rf "$CS_DIR" "$tmp"
  # Rename only when complete, so an interrupted install is never mistaken for a cached one.
  mv "$CS_DIR.partial" "$CS_DIR"
}

install_node_modules
if [ "${1:-}" = "--npm-only" ]; then
  exit 0
fi
install_debs
install_code_server
log "ready: code-server at $CS_DIR/node_modules/.bin/code-server, chromium at $(command -v chromium)"
