---@mod gemini_chat.install How to install the daemon, said where it is missing.
---
---The plugin usually lives in the gemini-chat repository (editor-clients/nvim): then the
---daemon installs from that checkout; otherwise from the package index.
local M = {}

---The gemini-chat checkout this plugin sits in, if it does.
---@return string?
function M.checkout()
  local here = debug.getinfo(1, "S").source:gsub("^@", "")
  -- lua/gemini_chat/install.lua -> the plugin folder -> editor-clients -> the repository
  local root = vim.fn.fnamemodify(here, ":p:h:h:h:h:h")
  local ok, lines = pcall(vim.fn.readfile, root .. "/pyproject.toml", "", 20)
  if ok and table.concat(lines, "\n"):find('name%s*=%s*"gemini%-chat"') then
    return root
  end
  return nil
end

---What to install: the checkout, else the package's name.
---@return string
function M.source()
  return M.checkout() or "gemini-chat"
end

---One line: the commands that put gemini-chat-server on PATH, and the `cmd` option.
---@return string
function M.hint()
  local src = vim.fn.shellescape(M.source())
  local how = "Install it with `uv tool install %s` (or `pipx install %s`), then restart Neovim;"
  return how:format(src, src) .. " or point `cmd` at it in require('gemini_chat').setup()"
end

return M
