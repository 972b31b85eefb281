---@mod gemini_chat.ui The chat buffer: transcript, streaming reply, input area, window.
---
---Layout of a chat buffer (plain Markdown, so it reads well and exports as is):
---
---  ## You            <- one exchange
---  message
---
---  ## Gemini
---  🔧 read src/a.py  <- thoughts (folded), tool calls, compaction: see blocks.lua
---  reply
---
---  _tokens: ..._     <- usage, dim
---
---  ---               <- separator, drawn as a full-width rule
---
---  ## You            <- the input area's header (an extmark tracks it)
---  what you type     <- everything below it is the next message
local blocks = require("gemini_chat.blocks")
local config = require("gemini_chat.config")
local folds = require("gemini_chat.folds")

local M = {}

local ns = vim.api.nvim_create_namespace("gemini_chat")
local status_ns = vim.api.nvim_create_namespace("gemini_chat_status")
-- Highlights of the reply while it streams; the finished reply is redrawn in `ns`.
local live_ns = vim.api.nvim_create_namespace("gemini_chat_live")
local RULE = string.rep("─", 300)

---@class gemini_chat.Reply
---@field mark integer Extmark on the "## Gemini" header.
---@field lines integer Lines under the header shown so far.
---@field text string
---@field started boolean Something arrived (the "waiting" line is gone).
---@field segment? "text"|"thought"|"meta" What the last line belongs to.
---@field thoughts string
---@field thought_row? integer Offset of the streaming thought block's header under the header.
---@field tools table[] Tool calls announced so far.
---@field images table[]
---@field compacted? integer Exchanges summarised before this turn.

---@class gemini_chat.Session
---@field root string Workspace folder.
---@field uri string
---@field buf integer
---@field input_mark integer Extmark on the input area's header.
---@field reply? gemini_chat.Reply
---@field pending table[] Attachments waiting for the next message.
---@field pending_labels string[]
---@field status string Shown in the winbar.
---@field loaded boolean History was rendered.
---@field loading? boolean History was asked for and has not come yet.
---@field waiting? fun(ok: boolean)[] Callers waiting for the history.
---@field request? gemini_chat.Request The reply in progress.
---@field model? string The model the next turn uses (from the daemon), for the winbar.

---@type table<string, gemini_chat.Session>
M.sessions = {}

---Label of the model in use, for the winbar.
M.model_label = nil ---@type string?

local function set_highlights()
  local links = {
    GeminiChatYou = "Title",
    GeminiChatGemini = "Special",
    GeminiChatRule = "NonText",
    GeminiChatUsage = "Comment",
    GeminiChatHint = "Comment",
    GeminiChatError = "DiagnosticError",
    GeminiChatStopped = "DiagnosticWarn",
    GeminiChatAttachment = "Directory",
    GeminiChatThought = "Comment",
    GeminiChatThoughtHead = "Comment",
    GeminiChatTool = "Comment",
    GeminiChatCompacted = "NonText",
    GeminiChatSummary = "Comment",
    GeminiChatImage = "Underlined",
    GeminiChatFold = "Comment",
  }
  for group, target in pairs(links) do
    vim.api.nvim_set_hl(0, group, { link = target, default = true })
  end
end
set_highlights()
vim.api.nvim_create_autocmd("ColorScheme", {
  group = vim.api.nvim_create_augroup("gemini_chat_hl", { clear = true }),
  callback = set_highlights,
})

---@param buf integer
---@param mark integer
---@return integer row
local function mark_row(buf, mark)
  return vim.api.nvim_buf_get_extmark_by_id(buf, ns, mark, {})[1]
end

local split = blocks.split

-- Highlight of each line kind that is not a header or a rule.
local kind_hl = {
  usage = "GeminiChatUsage",
  hint = "GeminiChatHint",
  error = "GeminiChatError",
  stopped = "GeminiChatStopped",
  attachment = "GeminiChatAttachment",
  thought = "GeminiChatThought",
  thought_head = "GeminiChatThoughtHead",
  summary = "GeminiChatSummary",
  summary_head = "GeminiChatThoughtHead",
  tool = "GeminiChatTool",
  compacted = "GeminiChatCompacted",
  image = "GeminiChatImage",
}

---Decorate line `r` by its kind.
---@param buf integer
---@param namespace integer
---@param r integer
---@param kind string?
---@param text string
local function decorate(buf, namespace, r, kind, text)
  if kind == "you" or kind == "gemini" then
    local hl = kind == "you" and "GeminiChatYou" or "GeminiChatGemini"
    vim.api.nvim_buf_set_extmark(buf, namespace, r, 0, {
      end_col = #text,
      hl_group = hl,
      virt_text = { { " " .. RULE, "GeminiChatRule" } },
      virt_text_pos = "eol",
      priority = 200,
    })
  elseif kind == "rule" then
    vim.api.nvim_buf_set_extmark(buf, namespace, r, 0, {
      virt_text = { { RULE, "GeminiChatRule" } },
      virt_text_pos = "overlay",
      priority = 200,
    })
  elseif kind and kind_hl[kind] then
    vim.api.nvim_buf_set_extmark(buf, namespace, r, 0, {
      end_col = #text,
      hl_group = kind_hl[kind],
      priority = 200,
    })
  end
end

---Insert lines at `row`, decorated by kind (you, gemini, rule, usage, thought, tool, ...),
---folding the blocks that items mark with fold_start/fold_end.
---@param buf integer
---@param row integer
---@param items gemini_chat.Item[]
---@param end_row? integer Replace lines up to here (exclusive; -1 = the end) instead of inserting.
local function put(buf, row, items, end_row)
  vim.api.nvim_buf_set_lines(buf, row, end_row or row, false, blocks.texts(items))
  local fold_start = nil ---@type integer?
  for i, item in ipairs(items) do
    local r = row + i - 1
    decorate(buf, ns, r, item[2], item[1])
    if item.fold_start then
      fold_start = r
    end
    if item.fold_end and fold_start then
      folds.add(buf, fold_start, r)
      fold_start = nil
    end
  end
end

---@param keys gemini_chat.KeymapOpts
---@return string
local function input_hint(keys)
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

---Draw the input header's hint, the pending attachments and the placeholder.
---@param s gemini_chat.Session
local function decorate_input(s)
  local row = mark_row(s.buf, s.input_mark)
  local virt_lines = {}
  for _, label in ipairs(s.pending_labels) do
    virt_lines[#virt_lines + 1] = { { "  + " .. label, "GeminiChatAttachment" } }
  end
  vim.api.nvim_buf_set_extmark(s.buf, ns, row, 0, {
    id = s.input_mark,
    end_col = #"## You",
    hl_group = "GeminiChatYou",
    virt_text = { { "  " .. input_hint(config.options.keymaps), "GeminiChatHint" } },
    virt_text_pos = "eol",
    virt_lines = #virt_lines > 0 and virt_lines or nil,
    priority = 200,
  })
  M.update_placeholder(s)
end

local placeholder_ns = vim.api.nvim_create_namespace("gemini_chat_placeholder")

---Show "Ask Gemini…" in an empty input area.
---@param s gemini_chat.Session
function M.update_placeholder(s)
  if not vim.api.nvim_buf_is_valid(s.buf) then
    return
  end
  vim.api.nvim_buf_clear_namespace(s.buf, placeholder_ns, 0, -1)
  local row = mark_row(s.buf, s.input_mark)
  local lines = vim.api.nvim_buf_get_lines(s.buf, row + 1, -1, false)
  if #lines <= 1 and (lines[1] or "") == "" and row + 1 < vim.api.nvim_buf_line_count(s.buf) then
    vim.api.nvim_buf_set_extmark(s.buf, placeholder_ns, row + 1, 0, {
      virt_text = { { "Ask Gemini… (type here)", "GeminiChatHint" } },
      virt_text_pos = "overlay",
    })
  end
end

---Append the input area (header plus `draft`) at the end of the buffer.
---@param s gemini_chat.Session
---@param draft? string[]
local function add_input(s, draft)
  local count = vim.api.nvim_buf_line_count(s.buf)
  local empty = count == 1 and vim.api.nvim_buf_get_lines(s.buf, 0, 1, false)[1] == ""
  local row = empty and 0 or count
  vim.api.nvim_buf_set_lines(s.buf, row, -1, false, { "## You" })
  s.input_mark = vim.api.nvim_buf_set_extmark(s.buf, ns, row, 0, {})
  local lines = draft and #draft > 0 and draft or { "" }
  vim.api.nvim_buf_set_lines(s.buf, row + 1, -1, false, lines)
  decorate_input(s)
end

---@param s gemini_chat.Session
local function set_buffer_options(s)
  local bo = vim.bo[s.buf]
  -- Model text is data: no modelines, no file, no swap.
  bo.modeline = false
  bo.buftype = "nofile"
  bo.bufhidden = "hide"
  bo.swapfile = false
  bo.buflisted = false
  bo.filetype = "markdown"
  bo.modeline = false
end

---Get the chat session of a workspace, creating its buffer on first use.
---@param root string
---@return gemini_chat.Session
function M.session(root)
  local s = M.sessions[root]
  if s and vim.api.nvim_buf_is_valid(s.buf) then
    return s
  end
  local buf = vim.api.nvim_create_buf(false, true)
  s = {
    root = root,
    uri = vim.uri_from_fname(root),
    buf = buf,
    input_mark = 0,
    pending = {},
    pending_labels = {},
    status = "",
    loaded = false,
  }
  M.sessions[root] = s
  set_buffer_options(s)
  pcall(vim.api.nvim_buf_set_name, buf, "gemini-chat://" .. root)
  add_input(s)
  vim.api.nvim_create_autocmd({ "TextChanged", "TextChangedI" }, {
    buffer = buf,
    callback = function()
      M.update_placeholder(s)
    end,
  })
  return s
end

---@param total number
---@param size number
---@return integer
local function dimension(total, size)
  if size < 1 then
    return math.max(1, math.floor(total * size))
  end
  return math.min(total, math.floor(size))
end

---@param s gemini_chat.Session
---@return integer win
local function open_window(s)
  local win_opts = config.options.window
  local layout = win_opts.layout
  if layout == "float" then
    local width = dimension(
      vim.o.columns,
      win_opts.width < 1 and math.max(win_opts.width, 0.6) or win_opts.width
    )
    local height = dimension(
      vim.o.lines,
      win_opts.height < 1 and math.max(win_opts.height, 0.7) or win_opts.height
    )
    return vim.api.nvim_open_win(s.buf, true, {
      relative = "editor",
      width = width,
      height = height,
      row = math.floor((vim.o.lines - height) / 2) - 1,
      col = math.floor((vim.o.columns - width) / 2),
      border = "rounded",
      title = " Gemini Chat ",
      title_pos = "center",
    })
  elseif layout == "tab" then
    vim.cmd("tab sbuffer " .. s.buf)
  elseif layout == "split" then
    vim.cmd(("botright %dsplit"):format(dimension(vim.o.lines, win_opts.height)))
    vim.api.nvim_win_set_buf(0, s.buf)
  else
    vim.cmd(("botright %dvsplit"):format(dimension(vim.o.columns, win_opts.width)))
    vim.api.nvim_win_set_buf(0, s.buf)
  end
  return vim.api.nvim_get_current_win()
end

---@param win integer
local function set_window_options(win)
  local wo = vim.wo[win]
  wo.wrap = true
  wo.linebreak = true
  wo.number = false
  wo.relativenumber = false
  wo.signcolumn = "no"
  wo.foldcolumn = "0"
  wo.spell = false
  wo.list = false
  wo.cursorline = false
  folds.window_options(win)
end

---Open the chat window of `s`, or focus it when it is already shown in this tab.
---@param s gemini_chat.Session
---@return integer win
function M.show(s)
  for _, win in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
    if vim.api.nvim_win_get_buf(win) == s.buf then
      vim.api.nvim_set_current_win(win)
      return win
    end
  end
  local win = open_window(s)
  set_window_options(win)
  folds.apply(s.buf, win)
  M.refresh_winbar(s)
  M.focus_input(s)
  return win
end

---Move the cursor to the end of the input area.
---@param s gemini_chat.Session
function M.focus_input(s)
  local win = vim.fn.bufwinid(s.buf)
  if win ~= -1 then
    local last = vim.api.nvim_buf_line_count(s.buf)
    pcall(vim.api.nvim_win_set_cursor, win, { last, 0 })
  end
end

---@param text string
---@return string
local function escape_statusline(text)
  return (text:gsub("%%", "%%%%"))
end

---Show workspace, model and status in the chat windows' winbar.
---@param s gemini_chat.Session
function M.refresh_winbar(s)
  local parts = { vim.fs.basename(s.root) }
  local model = s.model or M.model_label
  if model then
    parts[#parts + 1] = model
  end
  if s.status ~= "" then
    parts[#parts + 1] = s.status
  end
  -- `%<` truncates the details, not the title, in a narrow window.
  local bar = "%#GeminiChatGemini# ✦ Gemini %#GeminiChatHint#%<"
    .. escape_statusline(table.concat(parts, " · "))
  for _, win in ipairs(vim.fn.win_findbuf(s.buf)) do
    if vim.api.nvim_win_get_config(win).relative == "" then
      vim.wo[win].winbar = bar
    end
  end
end

---@param s gemini_chat.Session
---@param status string
function M.set_status(s, status)
  s.status = status
  M.refresh_winbar(s)
end

---The text typed in the input area.
---@param s gemini_chat.Session
---@return string
function M.input_text(s)
  local row = mark_row(s.buf, s.input_mark)
  local lines = vim.api.nvim_buf_get_lines(s.buf, row + 1, -1, false)
  return vim.trim(table.concat(lines, "\n"))
end

---The input area's lines as they are.
---@param s gemini_chat.Session
---@return string[]
function M.input_lines(s)
  return vim.api.nvim_buf_get_lines(s.buf, mark_row(s.buf, s.input_mark) + 1, -1, false)
end

---Replace the input area's text.
---@param s gemini_chat.Session
---@param text string
function M.set_input(s, text)
  local row = mark_row(s.buf, s.input_mark)
  vim.api.nvim_buf_set_lines(s.buf, row + 1, -1, false, split(text))
  M.update_placeholder(s)
end

---Attachments waiting for the next message, shown under the input header.
---@param s gemini_chat.Session
---@param attachments table[]
---@param labels string[]
function M.set_pending(s, attachments, labels)
  s.pending, s.pending_labels = attachments, labels
  decorate_input(s)
end

---Clear the buffer back to an empty input area, keeping the draft.
---@param s gemini_chat.Session
function M.clear(s)
  local draft = vim.api.nvim_buf_get_lines(s.buf, mark_row(s.buf, s.input_mark) + 1, -1, false)
  for _, namespace in ipairs({ ns, status_ns, live_ns }) do
    vim.api.nvim_buf_clear_namespace(s.buf, namespace, 0, -1)
  end
  folds.clear(s.buf)
  vim.api.nvim_buf_set_lines(s.buf, 0, -1, false, { "" })
  s.reply = nil
  add_input(s, draft)
end

---Render `gemini/history` turns as the transcript, above the input area.
---@param s gemini_chat.Session
---@param turns table[]
function M.render_history(s, turns)
  M.clear(s)
  put(s.buf, mark_row(s.buf, s.input_mark), blocks.history(turns))
  s.loaded = true
end

---Turn the input area into the user's turn and open the reply below it.
---@param s gemini_chat.Session
---@param message string
---@param labels string[]
---@param draft string[]? Text to leave in the new input area.
function M.begin_turn(s, message, labels, draft)
  local row = mark_row(s.buf, s.input_mark)
  vim.api.nvim_buf_del_extmark(s.buf, ns, s.input_mark)
  local items = { { "## You", "you" } } ---@type gemini_chat.Item[]
  vim.list_extend(items, blocks.you(message, labels))
  local hdr = row + #items + 1
  vim.list_extend(items, {
    { "" },
    { "## Gemini", "gemini" },
    { "" },
    { "" },
    { "---", "rule" },
    { "" },
  })
  put(s.buf, row, items, -1)
  local mark = vim.api.nvim_buf_set_extmark(s.buf, ns, hdr, 0, {})
  s.reply = {
    mark = mark,
    lines = 1,
    text = "",
    started = false,
    thoughts = "",
    tools = {},
    images = {},
  }
  s.pending, s.pending_labels = {}, {}
  add_input(s, draft)
  M.reply_status(s, "waiting for Gemini…")
end

---Show a dim note (waiting, retrying) in the reply before its text arrives.
---@param s gemini_chat.Session
---@param text string?
function M.reply_status(s, text)
  vim.api.nvim_buf_clear_namespace(s.buf, status_ns, 0, -1)
  if not s.reply or s.reply.started or not text then
    return
  end
  local row = mark_row(s.buf, s.reply.mark) + 1
  vim.api.nvim_buf_set_extmark(s.buf, status_ns, row, 0, {
    virt_text = { { "⋯ " .. text, "GeminiChatHint" } },
    virt_text_pos = "overlay",
  })
end

---The reply's rows: its first line and one past its last.
---@param s gemini_chat.Session
---@return integer first, integer stop
local function region(s)
  local first = mark_row(s.buf, s.reply.mark) + 1
  return first, first + s.reply.lines
end

---Add lines at the end of the reply.
---@param s gemini_chat.Session
---@param items gemini_chat.Item[]
local function push(s, items)
  local _, stop = region(s)
  put(s.buf, stop, items)
  s.reply.lines = s.reply.lines + #items
end

---Highlight the streaming thought block (its lines grow, so they are redone each time).
---@param s gemini_chat.Session
local function highlight_thoughts(s)
  local first, stop = region(s)
  local head = first + s.reply.thought_row
  vim.api.nvim_buf_clear_namespace(s.buf, live_ns, head, stop)
  for r, line in ipairs(vim.api.nvim_buf_get_lines(s.buf, head, stop, false)) do
    decorate(s.buf, live_ns, head + r - 1, r == 1 and "thought_head" or "thought", line)
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
    M.reply_status(s, nil)
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

---Append a streamed piece of the reply.
---@param s gemini_chat.Session
---@param delta string
function M.append(s, delta)
  local r = s.reply
  if not r or delta == "" then
    return
  end
  if r.segment ~= "text" then
    start_segment(s, "text")
    push(s, { { "" } })
  end
  r.text = r.text .. delta
  extend_last(s, delta, "")
end

---Append a streamed piece of the thought summary, shown as a callout until the answer starts.
---@param s gemini_chat.Session
---@param delta string
function M.append_thought(s, delta)
  local r = s.reply
  if not r or delta == "" then
    return
  end
  if r.segment ~= "thought" then
    start_segment(s, "thought")
    r.thought_row = r.lines
    push(s, { { blocks.THINKING, "thought_head" }, { "> ", "thought" } })
  end
  r.thoughts = r.thoughts .. delta
  extend_last(s, delta, "> ")
  highlight_thoughts(s)
end

---Show a tool call the daemon made for this reply.
---@param s gemini_chat.Session
---@param call {name?: string, summary?: string}
function M.add_tool(s, call)
  if s.reply then
    start_segment(s, "meta")
    s.reply.tools[#s.reply.tools + 1] = call
    push(s, { blocks.tool(call) })
  end
end

---Show an image of the reply (saved by the daemon).
---@param s gemini_chat.Session
---@param image {mimeType?: string, path?: string}
function M.add_image(s, image)
  if s.reply then
    start_segment(s, "meta")
    s.reply.images[#s.reply.images + 1] = image
    push(s, { blocks.image(image) })
  end
end

---Say that older exchanges were summarised before this turn.
---@param s gemini_chat.Session
---@param n integer
function M.add_compacted(s, n)
  if s.reply and not s.reply.compacted then
    start_segment(s, "meta")
    s.reply.compacted = n
    push(s, { blocks.compacted(n) })
  end
end

---@param value any
---@return boolean
local function present(value)
  return value ~= nil and value ~= vim.NIL and value ~= "" and not vim.deep_equal(value, {})
end

---Finish the reply: redraw it from the result as history shows it, with the usage line.
---@param s gemini_chat.Session
---@param result table
function M.finish(s, result)
  local r = s.reply
  if not r then
    return
  end
  M.reply_status(s, nil)
  local first, stop = region(s)
  -- What streamed is the fallback for fields the result leaves out.
  local turn = {
    text = type(result.text) == "string" and result.text or r.text,
    thoughts = present(result.thoughts) and result.thoughts or r.thoughts,
    toolCalls = present(result.toolCalls) and result.toolCalls or r.tools,
    images = present(result.images) and result.images or r.images,
    compacted = present(result.compacted) and result.compacted or r.compacted,
  }
  folds.remove(s.buf, first, stop - 1)
  vim.api.nvim_buf_clear_namespace(s.buf, ns, first, stop)
  vim.api.nvim_buf_clear_namespace(s.buf, live_ns, first, stop)
  local items = blocks.model_body(turn)
  local u = blocks.usage(result.usage, result.model)
  if u then
    vim.list_extend(items, { { "" }, { u, "usage" } })
  end
  put(s.buf, first, items, stop)
  s.reply = nil
end

---End the reply with a note: kind "stopped" or "error".
---@param s gemini_chat.Session
---@param kind "stopped"|"error"
---@param text string May span lines.
function M.fail(s, kind, text)
  local r = s.reply
  if not r then
    return
  end
  M.reply_status(s, nil)
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
  put(s.buf, row, items)
  s.reply = nil
end

---The chat windows' buffer-local keymaps.
---@param s gemini_chat.Session
---@param actions {send: fun(), stop: fun()}
function M.set_keymaps(s, actions)
  local keys = config.options.keymaps
  local function map(mode, lhs, fn, desc)
    if lhs then
      vim.keymap.set(mode, lhs, fn, { buffer = s.buf, desc = desc, nowait = true })
    end
  end
  map("n", keys.send, actions.send, "Gemini: send the message")
  map({ "n", "i" }, keys.send_insert, actions.send, "Gemini: send the message")
  map("n", keys.stop, actions.stop, "Gemini: stop the reply")
  map("n", keys.close, function()
    pcall(vim.api.nvim_win_close, 0, false)
  end, "Gemini: close the chat window")
end

return M
