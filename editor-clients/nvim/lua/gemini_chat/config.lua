---@mod gemini_chat.config Options, their defaults and their validation.
local M = {}

---@alias gemini_chat.Layout "split"|"vsplit"|"float"|"tab"

---@class gemini_chat.WindowOpts
---@field layout? gemini_chat.Layout Where the chat opens.
---@field width? number Columns (>= 1) or a fraction of the editor (< 1), for vsplit and float.
---@field height? number Lines (>= 1) or a fraction of the editor (< 1), for split and float.

---@class gemini_chat.KeymapOpts
---@field send? string|false Normal-mode key that sends the input area.
---@field send_insert? string|false Insert-mode key that sends the input area.
---@field stop? string|false Normal-mode key that stops the reply.
---@field close? string|false Normal-mode key that closes the chat window.
---@field resend? string|false Normal-mode key that sends an interrupted question again.
---@field next_block? string|false Normal-mode key: the next code block.
---@field prev_block? string|false Normal-mode key: the previous code block.
---@field yank_block? string|false Normal-mode key that yanks the code block under the cursor.
---@field apply_block? string|false Normal-mode key that applies the code block (with a diff).
---@field detach? string|false Normal-mode key that removes an attachment of the next message.
---@field accept? string|false In the diff window: apply the change.
---@field reject? string|false In the diff window: drop the change (q and <Esc> too).

---@class gemini_chat.Opts
---@field cmd? string[] The daemon's command line.
---@field model? string Model id; nil keeps the daemon's default.
---@field show_thoughts? boolean Ask for thought summaries each turn (shown folded).
---@field settings? table<string, any> Daemon settings (PROTOCOL.md), sent as initializationOptions.
---@field api_key_cmd? string[] A command printing the API key (given only to the daemon's env).
---@field root_markers? string[] Files or folders marking a workspace root above the cwd.
---@field window? gemini_chat.WindowOpts
---@field keymaps? gemini_chat.KeymapOpts

---@type gemini_chat.Opts
M.defaults = {
  cmd = { "gemini-chat-server" },
  model = nil,
  show_thoughts = false,
  settings = {},
  api_key_cmd = nil,
  root_markers = { ".git", ".hg", ".jj", "pyproject.toml", "package.json", "Cargo.toml", "go.mod" },
  window = { layout = "vsplit", width = 0.4, height = 0.4 },
  keymaps = {
    send = "<CR>",
    send_insert = "<C-s>",
    stop = "<C-c>",
    close = "q",
    resend = "gr",
    next_block = "]]",
    prev_block = "[[",
    yank_block = "gy",
    apply_block = "ga",
    detach = "gX",
    accept = "a",
    reject = "r",
  },
}

-- Every accepted key, including the ones whose default is nil.
local known = {
  top = {
    cmd = true,
    model = true,
    show_thoughts = true,
    settings = true,
    api_key_cmd = true,
    root_markers = true,
    window = true,
    keymaps = true,
  },
  window = { layout = true, width = true, height = true },
  keymaps = {}, -- filled below: every key of defaults.keymaps
}
for name in pairs(M.defaults.keymaps) do
  known.keymaps[name] = true
end

local layouts = { split = true, vsplit = true, float = true, tab = true }

---@type gemini_chat.Opts
M.options = vim.deepcopy(M.defaults)

local warned = {} ---@type table<string, boolean>

---Warn once per message for this Neovim session.
---@param msg string
local function warn_once(msg)
  if warned[msg] then
    return
  end
  warned[msg] = true
  vim.notify("gemini_chat: " .. msg, vim.log.levels.WARN)
end

---Warn about keys of `tbl` that `allowed` does not list.
---@param tbl table
---@param allowed table<string, boolean>
---@param prefix string
local function check_unknown(tbl, allowed, prefix)
  for key in pairs(tbl) do
    if not allowed[key] then
      warn_once(("unknown option '%s%s' ignored"):format(prefix, tostring(key)))
      tbl[key] = nil
    end
  end
end

---@param value any
---@return boolean
local function is_string_list(value)
  if type(value) ~= "table" or #value == 0 then
    return false
  end
  for _, item in ipairs(value) do
    if type(item) ~= "string" then
      return false
    end
  end
  return true
end

---@param value any
local function is_key(value)
  return value == false or type(value) == "string"
end

---@param value any
local function is_size(value)
  return type(value) == "number" and value > 0
end

-- name -> {check, description, default-getter}; a failing option falls back to its default.
local checks = {
  { "cmd", is_string_list, "a non-empty list of strings" },
  {
    "model",
    function(v)
      return v == nil or (type(v) == "string" and v ~= "")
    end,
    "a model id string",
  },
  {
    "show_thoughts",
    function(v)
      return type(v) == "boolean"
    end,
    "true or false",
  },
  {
    "settings",
    function(v)
      return type(v) == "table"
    end,
    "a table",
  },
  {
    "api_key_cmd",
    function(v)
      return v == nil or is_string_list(v)
    end,
    "a list of strings",
  },
  { "root_markers", is_string_list, "a non-empty list of strings" },
}

---Validate `opts` in place; invalid values warn once and fall back to the default.
---@param opts gemini_chat.Opts
---@return gemini_chat.Opts
local function validate(opts)
  check_unknown(opts, known.top, "")
  for _, check in ipairs(checks) do
    local name, ok, what = check[1], check[2], check[3]
    if not ok(opts[name]) then
      warn_once(("option '%s' must be %s; using the default"):format(name, what))
      opts[name] = vim.deepcopy(M.defaults[name])
    end
  end
  check_unknown(opts.window, known.window, "window.")
  if not layouts[opts.window.layout] then
    warn_once("option 'window.layout' must be split, vsplit, float or tab; using vsplit")
    opts.window.layout = "vsplit"
  end
  for _, dim in ipairs({ "width", "height" }) do
    if not is_size(opts.window[dim]) then
      warn_once(("option 'window.%s' must be a positive number; using the default"):format(dim))
      opts.window[dim] = M.defaults.window[dim]
    end
  end
  check_unknown(opts.keymaps, known.keymaps, "keymaps.")
  for name, value in pairs(opts.keymaps) do
    if not is_key(value) then
      warn_once(("option 'keymaps.%s' must be a key string or false"):format(name))
      opts.keymaps[name] = M.defaults.keymaps[name]
    end
  end
  return opts
end

---Merge user options over the defaults, validate them and make them current.
---@param user? gemini_chat.Opts
---@return gemini_chat.Opts
function M.set(user)
  if user ~= nil and type(user) ~= "table" then
    warn_once("setup() takes a table of options; using the defaults")
    user = nil
  end
  user = vim.deepcopy(user or {})
  -- Sub-tables of the wrong type would break the deep merge: replace them first.
  for _, sub in ipairs({ "window", "keymaps" }) do
    if user[sub] ~= nil and type(user[sub]) ~= "table" then
      warn_once(("option '%s' must be a table; using the default"):format(sub))
      user[sub] = nil
    end
  end
  local merged = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), user)
  -- Lists are replaced, not merged by index.
  for _, list in ipairs({ "cmd", "api_key_cmd", "root_markers" }) do
    if user[list] ~= nil then
      merged[list] = user[list]
    end
  end
  M.options = validate(merged)
  return M.options
end

---The daemon settings sent as initializationOptions (the `gemini` section).
---@return table<string, any>
function M.daemon_settings()
  local settings = vim.deepcopy(M.options.settings or {})
  if M.options.model then
    settings.model = M.options.model
  end
  return settings
end

return M
