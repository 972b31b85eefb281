#!/usr/bin/env bash
# Lint the VS Code extension: strict type check, then Biome (lint + format check), warnings fail.
set -euo pipefail
cd "$(dirname "$0")/.."
../../scripts/setup-vscode-tests.sh --npm-only
node_modules/.bin/tsc --noEmit --strict -p .
node_modules/.bin/biome check --error-on-warnings
