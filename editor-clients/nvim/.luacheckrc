-- luacheck configuration for the Neovim plugin (run by scripts/lint.sh).
std = "luajit"
globals = { "vim" }
max_line_length = 100
-- Callbacks keep their full, documented signature even when a parameter is unused.
unused_args = false
exclude_files = { ".tools/" }
