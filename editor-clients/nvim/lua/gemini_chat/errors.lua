---@mod gemini_chat.errors What the user is told when the daemon answers with an error.
local M = {}

local KEY_HINT = "In Neovim: export GEMINI_API_KEY before starting nvim, or set "
  .. "require('gemini_chat').setup({ api_key_cmd = { 'pass', 'show', 'gemini' } })"
  .. " and restart Neovim."

---@param err table
---@return table data The error's `data`, or an empty table.
local function data_of(err)
  return type(err.data) == "table" and err.data or {}
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

---What the chat buffer says about a failed turn: the note's kind and its lines.
---@param err table
---@return "error"|"stopped" kind, string text May span lines.
function M.note(err)
  local data = data_of(err)
  if data.reason == "blocked" then
    return "stopped", "**Blocked:** " .. M.text(err)
  elseif data.reason == "apiKeyMissing" then
    return "error", "**Error:** No Gemini API key.\n" .. KEY_HINT
  elseif data.reason == "modelNotFound" then
    return "error", "**Error:** " .. M.text(err) .. "\nIn Neovim, :GeminiChatModel picks another."
  elseif data.reason == "apiKeyInvalid" then
    return "error", "**Error:** " .. M.text(err) .. "\n" .. KEY_HINT
  elseif data.reason == "rateLimited" then
    return "error",
      "**Error:** " .. M.text(err) .. "\nIn Neovim, :GeminiChatStatus says when it lifts."
  elseif data.reason == "storage" then
    -- The daemon names the file and the cause; a finished reply above it was not kept.
    return "error", "**Not saved:** " .. M.text(err)
  end
  return "error", "**Error:** " .. M.text(err)
end

---A finished reply the store could not keep (`data.text` of a storage error), or nil.
---@param err table
---@return string?
function M.unsaved_text(err)
  local data = data_of(err)
  if data.reason == "storage" and type(data.text) == "string" and data.text ~= "" then
    return data.text
  end
  return nil
end

---One line that fits the command line, so no "Press ENTER" prompt follows it.
---@param text string
---@return string
function M.one_line(text)
  text = vim.trim((text:gsub("%s*\n%s*", " ")))
  local room = math.max(vim.v.echospace, 40)
  if vim.fn.strdisplaywidth(text) > room then
    text = vim.fn.strcharpart(text, 0, room - 1) .. "…"
  end
  return text
end

---Tell the user about a daemon error in one line, at a level matching its reason. With
---`in_chat` the chat buffer holds the whole story, so the line may be shortened to fit.
---@param err table
---@param in_chat? boolean
function M.notify(err, in_chat)
  local reason = data_of(err).reason
  local levels = vim.log.levels
  local level = (reason == "rateLimited" or reason == "blocked") and levels.WARN or levels.ERROR
  local msg = M.text(err)
  if reason == "apiKeyMissing" then
    msg = "no API key: export GEMINI_API_KEY or set api_key_cmd in setup()"
  elseif reason == "storage" and M.unsaved_text(err) then
    msg = "the reply is shown but was not saved: " .. msg
  end
  msg = "Gemini: " .. msg
  vim.notify(in_chat and M.one_line(msg) or (msg:gsub("%s*\n%s*", " ")), level)
end

return M
