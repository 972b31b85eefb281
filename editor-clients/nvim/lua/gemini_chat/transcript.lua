---@mod gemini_chat.transcript The chat buffer and the exchanges written into it.
local blocks = require("gemini_chat.blocks")
local input = require("gemini_chat.input")
local render = require("gemini_chat.render")
local reply = require("gemini_chat.reply")
local session = require("gemini_chat.session")

local M = {}

---@param buf integer
local function set_buffer_options(buf)
  local bo = vim.bo[buf]
  -- Model text is data: no modelines, no file, no swap.
  bo.modeline = false
  bo.buftype = "nofile"
  bo.bufhidden = "hide"
  bo.swapfile = false
  bo.buflisted = false
  bo.filetype = "markdown"
  -- Again: a markdown ftplugin may have set it.
  bo.modeline = false
end

---A new session for `root` with its chat buffer, holding an empty input area.
---@param root string
---@return gemini_chat.Session
function M.create(root)
  local buf = vim.api.nvim_create_buf(false, true)
  local s = session.new(root, buf)
  set_buffer_options(buf)
  pcall(vim.api.nvim_buf_set_name, buf, "gemini-chat://" .. root)
  input.add(s)
  vim.api.nvim_create_autocmd({ "TextChanged", "TextChangedI" }, {
    buffer = buf,
    callback = function()
      input.update_placeholder(s)
    end,
  })
  return s
end

---Clear the buffer back to an empty input area, keeping the draft.
---@param s gemini_chat.Session
function M.clear(s)
  local draft = input.lines(s)
  render.clear(s.buf)
  vim.api.nvim_buf_set_lines(s.buf, 0, -1, false, { "" })
  s.reply = nil
  input.add(s, draft)
end

---Render `gemini/history` turns as the transcript, above the input area.
---@param s gemini_chat.Session
---@param turns table[]
function M.render_history(s, turns)
  M.clear(s)
  render.put(s.buf, render.mark_row(s.buf, s.input_mark), blocks.history(turns))
  s.loaded = true
end

---Turn the input area into the user's turn and open the reply below it.
---@param s gemini_chat.Session
---@param message string
---@param labels string[]
---@param draft string[]? Text to leave in the new input area.
function M.begin_turn(s, message, labels, draft)
  local row = input.remove(s)
  local items = { { "## You", "you" } } ---@type gemini_chat.Item[]
  vim.list_extend(items, blocks.you(message, labels))
  local header = row + #items + 1
  vim.list_extend(items, {
    { "" },
    { "## Gemini", "gemini" },
    { "" },
    { "" },
    { "---", "rule" },
    { "" },
  })
  render.put(s.buf, row, items, -1)
  reply.open(s, header)
  s.pending, s.pending_labels = {}, {}
  input.add(s, draft)
  reply.status(s, "waiting for Gemini…")
end

return M
