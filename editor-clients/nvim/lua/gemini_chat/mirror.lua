---@mod gemini_chat.mirror Another editor's turn on this folder, shown while it streams.
---
---`gemini/turnProgress` gives the other editor's question when its turn starts, then the whole
---reply so far every 100 ms or so: the exchange is written above our own turn in progress (the
---daemon runs the other one first) or above the input area, and its reply is redrawn in place.
---The history reload that follows the commit draws it as every stored exchange. An image request
---(`started` carries `image`) shows as our own do: its prompt under its Imagen line, drawing.
local blocks = require("gemini_chat.blocks")
local folds = require("gemini_chat.folds")
local imagen = require("gemini_chat.imagen")
local render = require("gemini_chat.render")
local window = require("gemini_chat.window")

local M = {}

local WAITING = { "⋯ replying in another editor…", "hint" }
local END_ROWS = 3 -- "", "---", "" after the reply

---The mirrored exchange's header rows and one past its last row.
---@param s gemini_chat.Session
---@return integer first, integer header, integer stop
local function rows(s)
  local m = s.mirror ---@cast m -nil
  local header = render.mark_row(s.buf, m.header)
  return render.mark_row(s.buf, m.first), header, header + 1 + m.lines + END_ROWS
end

---Redraw the reply so far (`text`/`thoughts` are the whole of it, not a piece; `finished`
---also carries the images).
---@param s gemini_chat.Session
---@param p table `gemini/turnProgress` params.
function M.update(s, p)
  if not s.mirror then
    return
  end
  local text = type(p.text) == "string" and p.text or ""
  local thoughts = type(p.thoughts) == "string" and p.thoughts or ""
  local images = type(p.images) == "table" and p.images or {}
  local items = { s.mirror.waiting }
  if text ~= "" or thoughts ~= "" or #images > 0 then
    items = blocks.model_body({ text = text, thoughts = thoughts, images = images })
  end
  local _, header = rows(s)
  local first, stop = header + 1, header + 1 + s.mirror.lines
  folds.remove(s.buf, first, stop - 1)
  vim.api.nvim_buf_clear_namespace(s.buf, render.ns, first, stop)
  render.put(s.buf, first, items, stop)
  s.mirror.lines = #items
end

---Show the other editor's question and wait for its reply.
---@param s gemini_chat.Session
---@param p table `gemini/turnProgress` params of a `started` (or a first `streaming`).
function M.start(s, p)
  M.remove(s)
  local message = type(p.message) == "string" and p.message or "…"
  s.foreign[message] = true
  local row = render.mark_row(s.buf, s.own_mark or s.input_mark)
  local asked = imagen.asked(p)
  local waiting = WAITING ---@type gemini_chat.Item
  if asked then -- an image request: Imagen draws, no reply streams
    waiting = { ("⋯ %s in another editor…"):format(imagen.drawing(asked)), "hint" }
  end
  local items = { blocks.you_header(true) }
  vim.list_extend(items, blocks.you(message))
  items[#items + 1] = asked and imagen.note(asked) -- as under our own image request
  local header = row + #items + 1
  vim.list_extend(items, {
    { "" },
    { "## Gemini", "gemini" },
    waiting,
    { "" },
    { "---", "rule" },
    { "" },
  })
  render.put(s.buf, row, items)
  s.mirror = {
    first = vim.api.nvim_buf_set_extmark(s.buf, render.ns, row, 0, {}),
    header = vim.api.nvim_buf_set_extmark(s.buf, render.ns, header, 0, {}),
    lines = 1,
    waiting = waiting,
    drawing = asked ~= nil,
  }
  window.refresh_winbar(s)
  M.update(s, p)
end

---The other editor's reply is complete: it stays as it is until the history reload.
---@param s gemini_chat.Session
---@param p table
function M.finish(s, p)
  M.update(s, p)
  M.forget(s)
end

---Stop following the mirrored exchange, leaving its lines.
---@param s gemini_chat.Session
function M.forget(s)
  if not s.mirror then
    return
  end
  vim.api.nvim_buf_del_extmark(s.buf, render.ns, s.mirror.first)
  vim.api.nvim_buf_del_extmark(s.buf, render.ns, s.mirror.header)
  s.mirror = nil
  window.refresh_winbar(s)
end

---Take the mirrored exchange away (its turn failed or was cancelled: nothing was stored).
---@param s gemini_chat.Session
function M.remove(s)
  if not s.mirror then
    return
  end
  local first, _, stop = rows(s)
  M.forget(s)
  render.delete(s.buf, first, stop)
end

return M
