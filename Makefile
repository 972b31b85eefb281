# The verbs a person types. `make chat` talks to Gemini (or the bundled emulator when no key is
# set); `make test` installs everything the tests need and runs every test.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
export UV_PYTHON_DOWNLOADS := never
UV := $(shell scripts/ensure-uv.sh)
PY := .venv/bin/python

.PHONY: help setup compile chat test test-python test-clients lint fmt bench fuzz vsix clean setup-vscode

help:
	@echo "make chat   - chat with Gemini in this folder (emulator when GEMINI_API_KEY is unset)"
	@echo "make test   - install what the tests need, run every test"
	@echo "make lint   - ruff, basedpyright, stylua, luacheck, tsc, biome"
	@echo "make bench  - benchmarks against the emulator (bench/)"
	@echo "make fuzz   - the long fuzz run (10,000 cases)"
	@echo "make vsix   - package the VS Code extension"

setup: .venv/.synced

.venv/.synced: pyproject.toml uv.lock
	$(UV) sync --locked --compile-bytecode
	touch $@

# Our own modules' bytecode too (compileall writes it even under PYTHONDONTWRITEBYTECODE);
# without it every daemon start recompiles the package.
setup: compile
compile: .venv/.synced
	@$(PY) -m compileall -q server/gemini_chat

chat: setup
	@$(UV) run --locked gemini-chat $(ARGS)

# --- tests -------------------------------------------------------------------------------
test: setup setup-clients
	$(UV) run --locked pytest

test-python: setup
	$(UV) run --locked pytest tests/unit tests/e2e

setup-clients: setup setup-vscode
	scripts/setup-test-tools.sh

# The VS Code tests' tools: npm packages, Debian chromium, code-server (idempotent, cached).
setup-vscode:
	scripts/setup-vscode-tests.sh

# The VS Code extension as a .vsix (editor-clients/vscode/gemini-chat.vsix).
vsix:
	scripts/setup-vscode-tests.sh --npm-only
	cd editor-clients/vscode && npm run --silent package

lint: setup
	$(UV) run --locked ruff check server tests bench
	$(UV) run --locked ruff format --check server tests bench
	$(UV) run --locked basedpyright
	editor-clients/vscode/scripts/lint.sh
	editor-clients/nvim/scripts/lint.sh

fmt: setup
	$(UV) run --locked ruff format server tests bench
	$(UV) run --locked ruff check --fix server tests bench

fuzz: setup
	GEMINI_CHAT_FUZZ_EXAMPLES=10000 $(UV) run --locked pytest tests/e2e -k fuzz

bench: setup
	$(UV) run --locked python -m bench

clean:
	rm -rf .venv .tools .pytest_cache .ruff_cache
