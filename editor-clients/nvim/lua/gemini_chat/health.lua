---@mod gemini_chat.health :checkhealth gemini_chat
local M = {}

local health = vim.health

---@return boolean
local function check_neovim()
  local v = vim.version()
  local text = ("Neovim %d.%d.%d"):format(v.major, v.minor, v.patch)
  if vim.fn.has("nvim-0.10") == 1 then
    health.ok(text)
    return true
  end
  health.error(text .. ": gemini_chat needs Neovim 0.10 or newer")
  return false
end

---How to get a missing daemon, as the advice of :checkhealth.
---@return string[]
local function install_advice()
  local install = require("gemini_chat.install")
  local src = vim.fn.shellescape(install.source())
  return {
    "Run :GeminiChatInstall: `uv tool install`, else `pipx install`, else a venv of python3 "
      .. "under stdpath('data')",
    'With lazy.nvim, build = ":GeminiChatInstall" in the spec does it on install and update',
    ("Or by hand: `uv tool install %s` (or `pipx install %s`), then restart Neovim"):format(
      src,
      src
    ),
    "Installed elsewhere: setup({ cmd = { '/path/to/gemini-chat-server' } })",
  }
end

---@param cmd string[]
---@return boolean
local function check_server(cmd)
  local path, on_path = require("gemini_chat.install").find(cmd[1])
  if not path then
    health.error(("server '%s' not found on PATH"):format(cmd[1]), install_advice())
    return false
  end
  local argv = vim.list_extend({ path }, vim.list_slice(cmd, 2))
  table.insert(argv, "--version")
  local ok, res = pcall(function()
    return vim.system(argv, { text = true, stdin = false }):wait(10000)
  end)
  if not ok or res.code ~= 0 then
    health.error(("server '%s' found at %s but `--version` failed"):format(cmd[1], path), {
      "Reinstall it: :GeminiChatInstall",
    })
    return false
  end
  local where = on_path and path
    or (path .. " (not on PATH; found where :GeminiChatInstall puts it)")
  health.ok(("server %s: %s"):format(where, vim.trim(res.stdout or "")))
  return true
end

local function check_key(opts)
  -- Only whether a key is set: the key itself is never shown.
  if opts.api_key_cmd then
    health.ok(("API key: from api_key_cmd '%s' (not run here)"):format(opts.api_key_cmd[1]))
  elseif (opts.settings or {}).apiKey then
    health.ok("API key set: yes (settings.apiKey)")
  elseif vim.env.GEMINI_API_KEY or vim.env.GOOGLE_API_KEY then
    health.ok("API key set: yes (environment)")
  else
    health.warn("API key set: no", {
      "export GEMINI_API_KEY before starting Neovim",
      "or setup({ api_key_cmd = { 'pass', 'show', 'gemini' } })",
    })
  end
end

---The GEMINI.md files the daemon adds to the system instruction of this workspace.
---@param files string[]
local function check_context_files(files)
  if #files == 0 then
    health.info("context files: none (a GEMINI.md at the workspace root is added to every turn)")
    return
  end
  for _, path in ipairs(files) do
    health.ok("context file: " .. tostring(path))
  end
end

local function check_status()
  local client = require("gemini_chat.client")
  local root = client.workspace_root()
  local params = { workspace = vim.uri_from_fname(root) }
  local status, err = client.request_sync(root, "gemini/status", params, 10000)
  if not status then
    health.error("gemini/status failed: " .. tostring(err))
    return
  end
  health.ok(
    ("gemini/status: version %s, default model %s, baseUrl %s"):format(
      tostring(status.version),
      tostring(status.model),
      tostring(status.baseUrl)
    )
  )
  local say = status.apiKeySet and health.ok or health.warn
  say("daemon has an API key: " .. (status.apiKeySet and "yes" or "no"))
  health.info("data dir: " .. tostring(status.dataDir))
  local limit, active = require("gemini_chat.status").rate_limit(status.rateLimit)
  local tell = active and health.warn or (active == nil and health.info or health.ok)
  tell("rate limit: " .. limit)
  health.info("workspace: " .. root)
  check_context_files(status.contextFiles)
end

---Run by :checkhealth gemini_chat.
function M.check()
  local opts = require("gemini_chat.config").options
  health.start("gemini_chat")
  local nvim_ok = check_neovim()
  local server_ok = check_server(opts.cmd)
  check_key(opts)
  if nvim_ok and server_ok then
    check_status()
  end
end

return M
