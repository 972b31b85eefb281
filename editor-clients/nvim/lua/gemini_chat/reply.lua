---@mod gemini_chat.reply The reply as it streams in under its "## Gemini" header.
---
---Pieces arrive as text, thoughts (a callout, folded once the answer starts), tool calls,
---images and a compaction notice. When the reply is done it is redrawn from `gemini/chat`'s
---result, so it looks exactly as it will when the history is reloaded.
local blocks = require("gemini_chat.blocks")
local folds = require("gemini_chat.folds")
local render = require("gemini_chat.render")

local M = {}

local split = blocks.split

---Start the reply of `s` under the "## Gemini" header on `header_row`.
---@param s gemini_chat.Session
---@param header_row integer
function M.open(s, header_row)
  s.reply = {
    mark = vim.api.nvim_buf_set_extmark(s.buf, render.ns, header_row, 0, {}),
    lines = 1,
    started = false,
  }
end

---Show a dim note (waiting, retrying) in the reply before its text arrives; nil clears it.
---@param s gemini_chat.Session
---@param text string?
function M.status(s, text)
  vim.api.nvim_buf_clear_namespace(s.buf, render.status_ns, 0, -1)
  if not s.reply or s.reply.started or not text then
    return
  end
  local row = render.mark_row(s.buf, s.reply.mark) + 1
  vim.api.nvim_buf_set_extmark(s.buf, render.status_ns, row, 0, {
    virt_text = { { "⋯ " .. text, "GeminiChatHint" } },
    virt_text_pos = "overlay",
  })
end

---The reply's rows: its first line and one past its last.
---@param s gemini_chat.Session
---@return integer first, integer stop
local function region(s)
  local first = render.mark_row(s.buf, s.reply.mark) + 1
  return first, first + s.reply.lines
end

---Add lines at the end of the reply.
---@param s gemini_chat.Session
---@param items gemini_chat.Item[]
local function push(s, items)
  local _, stop = region(s)
  render.put(s.buf, stop, items)
  s.reply.lines = s.reply.lines + #items
end

---Highlight the streaming thought block (its lines grow, so they are redone each time).
---@param s gemini_chat.Session
local function highlight_thoughts(s)
  local first, stop = region(s)
  local head = first + s.reply.thought_row
  vim.api.nvim_buf_clear_namespace(s.buf, render.live_ns, head, stop)
  for r, line in ipairs(vim.api.nvim_buf_get_lines(s.buf, head, stop, false)) do
    local kind = r == 1 and "thought_head" or "thought"
    render.decorate(s.buf, render.live_ns, head + r - 1, kind, line)
  end
end

---End the streaming thought block: its final title, no trailing blank lines, folded.
---@param s gemini_chat.Session
local function close_thoughts(s)
  local r = s.reply
  if not r or r.segment ~= "thought" then
    return
  end
  r.segment = "meta"
  local first, stop = region(s)
  local head = first + r.thought_row
  while
    stop - 1 > head + 1
    and vim.api.nvim_buf_get_lines(s.buf, stop - 1, stop, false)[1]:match("^>%s*$")
  do
    vim.api.nvim_buf_set_lines(s.buf, stop - 1, stop, false, {})
    r.lines, stop = r.lines - 1, stop - 1
  end
  vim.api.nvim_buf_set_lines(s.buf, head, head + 1, false, { blocks.THOUGHTS })
  highlight_thoughts(s)
  folds.add(s.buf, head, stop - 1)
end

---Start a new part of the streaming reply: text, thoughts or a meta line (tool, image, ...).
---@param s gemini_chat.Session
---@param kind "text"|"thought"|"meta"
local function start_segment(s, kind)
  local r = s.reply ---@cast r -nil
  close_thoughts(s)
  if not r.started then
    r.started = true
    M.status(s, nil)
    local first = region(s)
    vim.api.nvim_buf_set_lines(s.buf, first, first + 1, false, {}) -- the "waiting" line
    r.lines = 0
  elseif (kind == "text") ~= (r.segment == "text") then
    push(s, { { "" } }) -- a blank line between the answer and the lines about it
  end
  r.segment = kind
end

---Append `delta` to the reply's last line; `prefix` starts each new line it makes.
---@param s gemini_chat.Session
---@param delta string
---@param prefix string
local function extend_last(s, delta, prefix)
  local _, stop = region(s)
  local current = vim.api.nvim_buf_get_lines(s.buf, stop - 1, stop, false)[1] or ""
  local parts = split(delta)
  parts[1] = current .. parts[1]
  for i = 2, #parts do
    parts[i] = prefix .. parts[i]
  end
  vim.api.nvim_buf_set_lines(s.buf, stop - 1, stop, false, parts)
  s.reply.lines = s.reply.lines + #parts - 1
end

---Append a streamed piece of the answer.
---@param s gemini_chat.Session
---@param delta string
local function append_text(s, delta)
  if s.reply.segment ~= "text" then
    start_segment(s, "text")
    push(s, { { "" } })
  end
  extend_last(s, delta, "")
end

---Append a streamed piece of the thought summary, shown as a callout until the answer starts.
---@param s gemini_chat.Session
---@param delta string
local function append_thought(s, delta)
  local r = s.reply ---@cast r -nil
  if r.segment ~= "thought" then
    start_segment(s, "thought")
    r.thought_row = r.lines
    push(s, { { blocks.THINKING, "thought_head" }, { "> ", "thought" } })
  end
  extend_last(s, delta, "> ")
  highlight_thoughts(s)
end

---Add one meta line (a tool call, an image, the compaction notice) to the reply.
---@param s gemini_chat.Session
---@param item gemini_chat.Item
local function add_meta(s, item)
  start_segment(s, "meta")
  push(s, { item })
end

---Show a partial result of `gemini/chat`: answer text, thoughts, a tool call, an image or a
---compaction notice.
---@param s gemini_chat.Session
---@param value table
function M.show_part(s, value)
  if not s.reply then
    return
  end
  if type(value.text) == "string" and value.text ~= "" then
    append_text(s, value.text)
  end
  if type(value.thought) == "string" and value.thought ~= "" then
    append_thought(s, value.thought)
  end
  if type(value.tool) == "table" then
    add_meta(s, blocks.tool(value.tool))
  end
  if type(value.image) == "table" then
    add_meta(s, blocks.image(value.image))
  end
  local masked = blocks.redacted(value.redacted)
  if masked then
    add_meta(s, masked)
  end
  local n = blocks.compacted_turns(value.compacted)
  if n and not s.reply.compacted then
    s.reply.compacted = n
    add_meta(s, blocks.compacted(n))
  end
end

---Take the streamed reply's decorations and folds away, before it is redrawn.
---@param s gemini_chat.Session
---@return integer first, integer stop Its rows.
local function clear_region(s)
  M.status(s, nil)
  local first, stop = region(s)
  folds.remove(s.buf, first, stop - 1)
  vim.api.nvim_buf_clear_namespace(s.buf, render.ns, first, stop)
  vim.api.nvim_buf_clear_namespace(s.buf, render.live_ns, first, stop)
  return first, stop
end

---Finish the reply: redraw it from the result as history shows it, with the usage line.
---@param s gemini_chat.Session
---@param result table `gemini/chat`'s result.
function M.finish(s, result)
  if not s.reply then
    return
  end
  local first, stop = clear_region(s)
  local items = blocks.model_body(result)
  local masked = blocks.redacted(result.redacted)
  if masked then
    -- A blank line between it and the answer, as between the other lines about a reply and it.
    table.insert(items, 1, items[1][2] == nil and items[1][1] ~= "" and { "" } or nil)
    table.insert(items, 1, masked)
  end
  local u = blocks.usage(result.usage, result.model)
  if u then
    vim.list_extend(items, { { "" }, { u, "usage" } })
  end
  render.put(s.buf, first, items, stop)
  s.reply = nil
  require("gemini_chat.syntax").refresh(s.buf, first, first + #items)
end

---End the reply with a note: kind "stopped" or "error".
---@param s gemini_chat.Session
---@param kind "stopped"|"error"
---@param text string May span lines.
---@param body? string The whole reply, when it finished but was not saved: shown above the note.
function M.fail(s, kind, text, body)
  local r = s.reply
  if not r then
    return
  end
  if body then
    local first, stop = clear_region(s)
    local items = blocks.model_body({ text = body })
    items[#items + 1] = { "" }
    for _, line in ipairs(split(text)) do
      items[#items + 1] = { line, kind }
    end
    render.put(s.buf, first, items, stop)
    s.reply = nil
    return
  end
  M.status(s, nil)
  close_thoughts(s)
  local first, row = region(s)
  local items = {} ---@type gemini_chat.Item[]
  if r.started then
    items[#items + 1] = { "" }
  else
    -- Replace the empty placeholder line.
    vim.api.nvim_buf_set_lines(s.buf, first, first + 1, false, {})
    row = first
  end
  for _, line in ipairs(split(text)) do
    items[#items + 1] = { line, kind }
  end
  render.put(s.buf, row, items)
  s.reply = nil
end

return M
