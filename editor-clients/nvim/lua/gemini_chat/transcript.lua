---@mod gemini_chat.transcript The chat buffer and the exchanges written into it.
local blocks = require("gemini_chat.blocks")
local config = require("gemini_chat.config")
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
  require("gemini_chat.syntax").start(buf)
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

---How to send an interrupted question (or image request) again, for its note.
---@param turn table `gemini/history`'s `interrupted`.
---@return string
local function resend_hint(turn)
  local key = config.options.keymaps.resend
  local how = key and (key .. " or :GeminiChatResend") or ":GeminiChatResend"
  if require("gemini_chat.imagen").asked(turn) then
    return "the editor sending this stopped before the images came; "
      .. how
      .. " sends the image request again"
  end
  return "the editor sending this stopped before the reply finished; " .. how .. " sends it again"
end

---Show `gemini/history`'s result as the transcript, above the input area: its turns, then the
---turn a dead editor left (`interrupted`). Exchanges already shown are left as they are.
---@param s gemini_chat.Session
---@param result {turns?: table[], interrupted?: table}
function M.render_history(s, result)
  local items = blocks.history(result.turns or {}, s.foreign)
  s.cost = nil
  for _, turn in ipairs(result.turns or {}) do
    s.cost = require("gemini_chat.usage").conversation(turn.usage) or s.cost
  end
  s.interrupted = type(result.interrupted) == "table" and result.interrupted or nil
  local tail = s.interrupted and blocks.interrupted(s.interrupted, resend_hint(s.interrupted)) or {}
  vim.list_extend(items, tail)
  vim.api.nvim_buf_clear_namespace(s.buf, render.status_ns, 0, -1)
  local stop = render.mark_row(s.buf, s.input_mark)
  local start = render.replace(s.buf, stop, items)
  stop = render.mark_row(s.buf, s.input_mark)
  if start then
    require("gemini_chat.syntax").refresh(s.buf, start, stop)
  end
  s.interrupted_mark = s.interrupted
    and vim.api.nvim_buf_set_extmark(s.buf, render.ns, stop - #tail, 0, {})
  s.interrupted_rows = #tail
  s.reply = nil
  s.loaded = true
end

---Take the interrupted turn off the screen (it is being sent again).
---@param s gemini_chat.Session
function M.drop_interrupted(s)
  if not s.interrupted_mark then
    return
  end
  local row = render.mark_row(s.buf, s.interrupted_mark)
  vim.api.nvim_buf_del_extmark(s.buf, render.ns, s.interrupted_mark)
  render.delete(s.buf, row, row + s.interrupted_rows)
  s.interrupted, s.interrupted_mark = nil, nil
end

---Turn the input area into the user's turn and open the reply below it.
---@param s gemini_chat.Session
---@param message string
---@param labels string[]
---@param draft string[]? Text to leave in the new input area.
---@param note? gemini_chat.Item A line under the message (what an Imagen request asks for).
---@param waiting? string The reply's dim line until something comes (default: waiting for Gemini).
function M.begin_turn(s, message, labels, draft, note, waiting)
  local row = input.remove(s)
  local items = { { "## You", "you" } } ---@type gemini_chat.Item[]
  vim.list_extend(items, blocks.you(message, labels))
  items[#items + 1] = note
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
  s.own_mark = vim.api.nvim_buf_set_extmark(s.buf, render.ns, row, 0, {})
  reply.open(s, header)
  input.add(s, draft)
  reply.status(s, waiting or "waiting for Gemini…")
end

return M
