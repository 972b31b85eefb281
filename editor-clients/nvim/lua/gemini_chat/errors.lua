---@mod gemini_chat.errors What the user is told when the daemon answers with an error.
local M = {}

local KEY_HINT = "In Neovim: export GEMINI_API_KEY before starting nvim, or set "
  .. "require('gemini_chat').setup({ api_key_cmd = { 'pass', 'show', 'gemini' } })."

---@param err table
---@return table data The error's `data`, or an empty table.
local function data_of(err)
  return type(err.data) == "table" and err.data or {}
end

---Whether the daemon refused the prompt or the reply for safety (reason `blocked`).
---@param err table
---@return boolean
function M.blocked(err)
  return data_of(err).reason == "blocked"
end

---The error's message; for a block, with its reason and categories if the message lacks them.
---@param err table
---@return string
function M.text(err)
  local data = data_of(err)
  local msg = tostring(err.message or "unknown error")
  if data.reason ~= "blocked" then
    return msg
  end
  local names = { data.blockReason }
  if type(data.categories) == "table" then
    vim.list_extend(names, data.categories)
  end
  local missing = {}
  local lower = msg:lower()
  for _, name in ipairs(names) do
    -- The daemon may say HARM_CATEGORY_DANGEROUS_CONTENT as "dangerous content".
    local words = type(name) == "string" and name:gsub("^HARM_CATEGORY_", ""):gsub("_", " ")
    if words and not msg:find(name, 1, true) and not lower:find(words:lower(), 1, true) then
      missing[#missing + 1] = name
    end
  end
  if #missing > 0 then
    msg = ("%s (%s)"):format(msg, table.concat(missing, ", "))
  end
  return msg
end

---Tell the user about a daemon error, at a level matching its reason.
---@param err table
function M.notify(err)
  local reason = data_of(err).reason
  local levels = vim.log.levels
  local level = (reason == "rateLimited" or reason == "blocked") and levels.WARN or levels.ERROR
  local msg = M.text(err)
  if reason == "apiKeyMissing" then
    msg = msg .. "\n" .. KEY_HINT
  end
  vim.notify("Gemini: " .. msg, level)
end

return M
