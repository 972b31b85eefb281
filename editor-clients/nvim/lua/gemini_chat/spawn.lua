---@mod gemini_chat.spawn Starting the daemon's process, the API key given to it alone.
local config = require("gemini_chat.config")

local M = {}

local has_011 = vim.fn.has("nvim-0.11") == 1

---Run api_key_cmd; its output is the key, used only in the daemon's environment.
---@return string? key, string? err
local function key_from_cmd()
  local argv = config.options.api_key_cmd
  if not argv then
    return nil, nil
  end
  if vim.fn.executable(argv[1]) ~= 1 then
    return nil, ("api_key_cmd: '%s' is not executable"):format(argv[1])
  end
  local ok, res = pcall(function()
    return vim.system(argv, { text = true, stdin = false }):wait(30000)
  end)
  if not ok or res.code ~= 0 then
    local code = ok and res.code or "error"
    return nil, ("api_key_cmd '%s' failed (exit %s)"):format(argv[1], tostring(code))
  end
  local key = vim.trim(res.stdout or ""):match("^[^\n]*")
  if key == "" then
    return nil, ("api_key_cmd '%s' printed nothing"):format(argv[1])
  end
  return key, nil
end

---Spawn the client with the key from api_key_cmd in the child's environment only.
---
---The key is not given as `cmd_env`, which Neovim's LSP log records: it is put into
---Neovim's environment just for the (synchronous) spawn, then the old value is restored.
---@param lsp_config table
---@return integer? id, string? err
function M.start(lsp_config)
  local key, err = key_from_cmd()
  if err then
    return nil, err
  end
  local saved = vim.env.GEMINI_API_KEY
  if key then
    vim.env.GEMINI_API_KEY = key
  end
  local ok, id = pcall(function()
    if has_011 then
      return vim.lsp.start(lsp_config, { attach = false, silent = true })
    end
    return vim.lsp.start_client(lsp_config)
  end)
  if key then
    vim.env.GEMINI_API_KEY = saved
  end
  if not ok or not id then
    return nil, ("cannot start the daemon '%s'; see :LspLog"):format(lsp_config.cmd[1])
  end
  return id, nil
end

return M
