---@mod gemini_chat.input The input area: the last "## You" header and what is typed below it.
local blocks = require("gemini_chat.blocks")
local config = require("gemini_chat.config")
local render = require("gemini_chat.render")

local M = {}

local placeholder_ns = vim.api.nvim_create_namespace("gemini_chat_placeholder")
local queue_ns = vim.api.nvim_create_namespace("gemini_chat_queue")

---The keys to press, shown after the input header.
---@param keys gemini_chat.KeymapOpts
---@return string
local function hint(keys)
  local send = {}
  for _, key in ipairs({ keys.send, keys.send_insert }) do
    if key then
      send[#send + 1] = key
    end
  end
  local parts = {}
  if #send > 0 then
    parts[#parts + 1] = table.concat(send, "/") .. " send"
  end
  if keys.stop then
    parts[#parts + 1] = keys.stop .. " stop"
  end
  if keys.close then
    parts[#parts + 1] = keys.close .. " close"
  end
  return table.concat(parts, " · ")
end

---@param s gemini_chat.Session
---@return integer row The input header's row.
local function header_row(s)
  return render.mark_row(s.buf, s.input_mark)
end

---Show "Ask Gemini…" in an empty input area.
---@param s gemini_chat.Session
function M.update_placeholder(s)
  if not vim.api.nvim_buf_is_valid(s.buf) then
    return
  end
  vim.api.nvim_buf_clear_namespace(s.buf, placeholder_ns, 0, -1)
  local row = header_row(s)
  local lines = vim.api.nvim_buf_get_lines(s.buf, row + 1, -1, false)
  if #lines <= 1 and (lines[1] or "") == "" and row + 1 < vim.api.nvim_buf_line_count(s.buf) then
    vim.api.nvim_buf_set_extmark(s.buf, placeholder_ns, row + 1, 0, {
      virt_text = { { "Ask Gemini… (type here)", "GeminiChatHint" } },
      virt_text_pos = "overlay",
    })
  end
end

---The list of pending attachments, shown under the input header.
---@param s gemini_chat.Session
---@return table[] virt_lines
local function attachment_lines(s)
  local lines = {}
  local detach = config.options.keymaps.detach
  for i, p in ipairs(s.pending) do
    local line = { { "  📎 " .. p.label, "GeminiChatAttachment" } }
    if p.detail then
      line[#line + 1] = { "  " .. p.detail, "GeminiChatHint" }
    end
    if i == #s.pending then
      local how = detach and (detach .. " or :GeminiChatDetach") or ":GeminiChatDetach"
      line[#line + 1] = { ("   (%s removes)"):format(how), "GeminiChatHint" }
    end
    lines[#lines + 1] = line
  end
  return lines
end

---The questions waiting for the reply in progress, shown above the input header.
---@param s gemini_chat.Session
---@return table[] virt_lines
local function queue_lines(s)
  local lines = {}
  for _, q in ipairs(s.queue) do
    local first = q.message:match("^[^\n]*")
    local more = #q.pending > 0 and (" + %d attached"):format(#q.pending) or ""
    local what = q.imagen and "🎨 " or (q.json and "{ } " or "")
    lines[#lines + 1] = {
      { "⏳ queued: " .. what, "GeminiChatHint" },
      { first .. (first ~= q.message and " …" or ""), "GeminiChatQueued" },
      { more, "GeminiChatHint" },
    }
  end
  return lines
end

---Draw the input header's hint, the pending attachments, the queue and the placeholder.
---@param s gemini_chat.Session
local function decorate(s)
  local attached = attachment_lines(s)
  vim.api.nvim_buf_set_extmark(s.buf, render.ns, header_row(s), 0, {
    id = s.input_mark,
    end_col = #"## You",
    hl_group = "GeminiChatYou",
    virt_text = { { "  " .. hint(config.options.keymaps), "GeminiChatHint" } },
    virt_text_pos = "eol",
    virt_lines = #attached > 0 and attached or nil,
    priority = 200,
  })
  vim.api.nvim_buf_clear_namespace(s.buf, queue_ns, 0, -1)
  if #s.queue > 0 then
    vim.api.nvim_buf_set_extmark(s.buf, queue_ns, header_row(s), 0, {
      virt_lines = queue_lines(s),
      virt_lines_above = true,
    })
  end
  M.update_placeholder(s)
end

---Redraw the list of queued questions.
---@param s gemini_chat.Session
function M.show_queue(s)
  decorate(s)
end

---Append the input area (header plus `draft`) at the end of the buffer.
---@param s gemini_chat.Session
---@param draft? string[]
function M.add(s, draft)
  local count = vim.api.nvim_buf_line_count(s.buf)
  local empty = count == 1 and vim.api.nvim_buf_get_lines(s.buf, 0, 1, false)[1] == ""
  local row = empty and 0 or count
  vim.api.nvim_buf_set_lines(s.buf, row, -1, false, { "## You" })
  s.input_mark = vim.api.nvim_buf_set_extmark(s.buf, render.ns, row, 0, {})
  local lines = draft and #draft > 0 and draft or { "" }
  vim.api.nvim_buf_set_lines(s.buf, row + 1, -1, false, lines)
  decorate(s)
end

---Take the input area away (its header row is returned), to write the user's turn there.
---@param s gemini_chat.Session
---@return integer row
function M.remove(s)
  local row = header_row(s)
  vim.api.nvim_buf_del_extmark(s.buf, render.ns, s.input_mark)
  return row
end

---The input area's lines as they are.
---@param s gemini_chat.Session
---@return string[]
function M.lines(s)
  return vim.api.nvim_buf_get_lines(s.buf, header_row(s) + 1, -1, false)
end

---The text typed in the input area.
---@param s gemini_chat.Session
---@return string
function M.text(s)
  return vim.trim(table.concat(M.lines(s), "\n"))
end

---Replace the input area's text.
---@param s gemini_chat.Session
---@param text string
function M.set(s, text)
  vim.api.nvim_buf_set_lines(s.buf, header_row(s) + 1, -1, false, blocks.split(text))
  M.update_placeholder(s)
end

---Attachments waiting for the next message, shown under the input header.
---@param s gemini_chat.Session
---@param pending gemini_chat.Pending[]
function M.set_pending(s, pending)
  s.pending = pending
  decorate(s)
end

---Move the cursor to the end of the input area.
---@param s gemini_chat.Session
function M.focus(s)
  local win = vim.fn.bufwinid(s.buf)
  if win ~= -1 then
    local last = vim.api.nvim_buf_line_count(s.buf)
    pcall(vim.api.nvim_win_set_cursor, win, { last, 0 })
  end
end

return M
