---@mod gemini_chat.selection Lines of a buffer as an attachment of the next message.
local attach = require("gemini_chat.attach")

local M = {}

---The length of `line` in UTF-16 code units, as LSP positions count.
---@param line string
---@return integer
local function utf16_len(line)
  if vim.fn.has("nvim-0.11") == 1 then
    return vim.str_utfindex(line, "utf-16")
  end
  local _, n = vim.str_utfindex(line)
  return n
end

---An attachment for lines line1..line2 of `buf`: its uri and range when the file is inside the
---workspace (an unsaved buffer is synced to the daemon first: see sync.lua), else the text.
---@param buf integer
---@param line1 integer
---@param line2 integer
---@param root string
---@return gemini_chat.Pending
function M.attachment(buf, line1, line2, root)
  local name = vim.api.nvim_buf_get_name(buf)
  local lines = vim.api.nvim_buf_get_lines(buf, line1 - 1, line2, false)
  local rel = name ~= "" and attach.inside(root, name) or nil
  local label = rel or (name ~= "" and vim.fn.fnamemodify(name, ":t") or "selection")
  label = line1 == line2 and ("%s:%d"):format(label, line1)
    or ("%s:%d-%d"):format(label, line1, line2)
  local n = line2 - line1 + 1
  local detail = ("%d line%s"):format(n, n == 1 and "" or "s")
  if rel and vim.bo[buf].buftype == "" then
    local attachment = {
      uri = vim.uri_from_fname(vim.fs.normalize(name)),
      range = {
        start = { line = line1 - 1, character = 0 },
        ["end"] = { line = line2 - 1, character = utf16_len(lines[#lines] or "") },
      },
    }
    local modified = vim.bo[buf].modified
    return {
      attachment = attachment,
      label = label,
      detail = modified and detail .. ", unsaved" or detail,
      buf = modified and buf or nil,
    }
  end
  -- Outside the workspace the daemon reads nothing: send the text.
  return {
    attachment = { name = label, text = table.concat(lines, "\n") },
    label = label,
    detail = detail,
  }
end

return M
