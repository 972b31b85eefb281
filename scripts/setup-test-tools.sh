#!/usr/bin/env bash
# Debian tools the Python-driven tests use (tmux for the terminal client's screen tests, git for
# the workspace tools' .gitignore handling), and the npm packages of tests/clients/acp; installs
# only what is missing.
set -euo pipefail
missing=()
for pkg in tmux git; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "apt-get install ${missing[*]}" >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The ACP clients of tests/clients/test_acp_*.py (the TypeScript SDK, acpx); installed only when
# the lock changed. `npm install --no-save` from the lock, not `npm ci`: acpx's @openclaw/fs-safe
# lists per-platform optional packages that the registry here does not serve (darwin, arm64,
# win32), so the lock cannot name them and `npm ci` refuses it as "out of sync".
acp_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/clients/acp"
if [ ! -f "$acp_dir/node_modules/.package-lock.json" ] ||
  [ "$acp_dir/package-lock.json" -nt "$acp_dir/node_modules/.package-lock.json" ]; then
  echo "npm install in tests/clients/acp" >&2
  (cd "$acp_dir" && npm install --no-save --no-audit --no-fund --loglevel=error)
fi
