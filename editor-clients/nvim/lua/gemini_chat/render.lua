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
}

---Decorate line `r` by its kind.
---@param buf integer
---@param namespace integer
---@param r integer
---@param kind string?
---@param text string
function M.decorate(buf, namespace, r, kind, text)
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
function M.put(buf, row, items, end_row)
  vim.api.nvim_buf_set_lines(buf, row, end_row or row, false, blocks.texts(items))
  local fold_start = nil ---@type integer?
  for i, item in ipairs(items) do
    local r = row + i - 1
    M.decorate(buf, M.ns, r, item[2], item[1])
    if item.fold_start then
      fold_start = r
    end
    if item.fold_end and fold_start then
      folds.add(buf, fold_start, r)
      fold_start = nil
    end
  end
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
