---@mod gemini_chat.render Drawing lines into the chat buffer: highlights, rules, folds.
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
---  ## You            <- the input area's header (an extmark tracks it): see input.lua
---  what you type     <- everything below it is the next message
local blocks = require("gemini_chat.blocks")
local folds = require("gemini_chat.folds")

local M = {}

---Decorations and the extmarks that track headers.
M.ns = vim.api.nvim_create_namespace("gemini_chat")
---The "waiting for Gemini…" note of a reply.
M.status_ns = vim.api.nvim_create_namespace("gemini_chat_status")
---Highlights of the reply while it streams; the finished reply is redrawn in `ns`.
M.live_ns = vim.api.nvim_create_namespace("gemini_chat_live")

local RULE = string.rep("─", 300)

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
    GeminiChatOther = "DiagnosticInfo",
    GeminiChatStatus = "DiagnosticInfo",
    GeminiChatQueued = "Normal",
    GeminiChatJsonOk = "DiagnosticOk",
    GeminiChatJsonError = "DiagnosticError",
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

---The row an extmark of `ns` is on.
---@param buf integer
---@param mark integer
---@return integer row
function M.mark_row(buf, mark)
  return vim.api.nvim_buf_get_extmark_by_id(buf, M.ns, mark, {})[1]
end

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
  redacted = "GeminiChatHint",
  json_ok = "GeminiChatJsonOk",
  json_error = "GeminiChatJsonError",
}

---The label on the `## You` header of a question sent from another editor.
M.OTHER = "from another editor"

---Decorate line `r` by its kind.
---@param buf integer
---@param namespace integer
---@param r integer
---@param kind string?
---@param text string
---@param other? boolean A `## You` header of a question from another editor.
function M.decorate(buf, namespace, r, kind, text, other)
  if kind == "you" or kind == "gemini" then
    local hl = kind == "you" and "GeminiChatYou" or "GeminiChatGemini"
    local virt = { { " " .. RULE, "GeminiChatRule" } }
    if other then
      table.insert(virt, 1, { " · " .. M.OTHER, "GeminiChatOther" })
    end
    vim.api.nvim_buf_set_extmark(buf, namespace, r, 0, {
      end_col = #text,
      hl_group = hl,
      virt_text = virt,
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
function M.put(buf, row, items, end_row)
  vim.api.nvim_buf_set_lines(buf, row, end_row or row, false, blocks.texts(items))
  local fold_start = nil ---@type integer?
  for i, item in ipairs(items) do
    local r = row + i - 1
    M.decorate(buf, M.ns, r, item[2], item[1], item.other)
    if item.fold_start then
      fold_start = r
    end
    if item.fold_end and fold_start then
      folds.add(buf, fold_start, r)
      fold_start = nil
    end
    if item[2] == "image" then
      require("gemini_chat.preview").attach(buf) -- an image plugin, if one is there
    end
  end
end

---Replace rows [0, stop) with `items`, keeping the exchanges that did not change (a reload
---that only adds a turn leaves the rest, its folds and the view, alone).
---@param buf integer
---@param stop integer
---@param items gemini_chat.Item[]
---@return integer? start The first row rewritten (nil: nothing changed).
function M.replace(buf, stop, items)
  local old = vim.api.nvim_buf_get_lines(buf, 0, stop, false)
  local same = 0
  while same < #items and old[same + 1] == items[same + 1][1] do
    same = same + 1
  end
  if same == #items and same == #old then
    return nil
  end
  local start = same -- the first row that differs, moved back to its exchange's header
  for i = math.min(same + 1, #items), 1, -1 do
    if items[i][2] == "you" then
      start = math.min(start, i - 1)
      break
    end
  end
  M.delete(buf, start, stop)
  M.put(buf, start, vim.list_slice(items, start + 1))
  return start
end

---Delete rows [first, stop) with their decorations and folds.
---@param buf integer
---@param first integer
---@param stop integer
function M.delete(buf, first, stop)
  vim.api.nvim_buf_clear_namespace(buf, M.ns, first, stop)
  vim.api.nvim_buf_clear_namespace(buf, M.live_ns, first, stop)
  folds.remove(buf, first, stop - 1)
  vim.api.nvim_buf_set_lines(buf, first, stop, false, {})
end

---Drop every decoration and fold of `buf` (it is being cleared).
---@param buf integer
function M.clear(buf)
  for _, namespace in ipairs({ M.ns, M.status_ns, M.live_ns }) do
    vim.api.nvim_buf_clear_namespace(buf, namespace, 0, -1)
  end
  folds.clear(buf)
end

return M
