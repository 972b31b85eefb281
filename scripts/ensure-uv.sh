#!/usr/bin/env bash
# Print the path of a working uv, installing it from PyPI into .tools/ when the machine has none.
set -euo pipefail
if command -v uv >/dev/null 2>&1; then command -v uv; exit 0; fi
root=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -x "$root/.tools/bin/uv" ]; then
  echo "uv not found: installing it from PyPI into .tools/" >&2
  python3 -m venv "$root/.tools" >&2
  "$root/.tools/bin/pip" install --quiet uv >&2
fi
echo "$root/.tools/bin/uv"
