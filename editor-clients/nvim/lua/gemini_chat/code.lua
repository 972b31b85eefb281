---@mod gemini_chat.code The fenced code blocks of the chat buffer: jump, yank, apply.
local M = {}

local levels = vim.log.levels

---@class gemini_chat.CodeBlock
---@field first integer 1-based line of the opening fence.
---@field last integer 1-based line of the closing fence (the last line when it is unclosed).
---@field lang string The info string's first word ("" when none).
---@field lines string[] The code between the fences.

---Every fenced block of `buf` (``` or ~~~, a closing fence at least as long as the opening).
---@param buf integer
---@return gemini_chat.CodeBlock[]
function M.blocks(buf)
  local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  local out, open = {}, nil
  for i, line in ipairs(lines) do
    local fence, info = line:match("^%s*(```+)%s*(.-)%s*$")
    if not fence then
      fence, info = line:match("^%s*(~~~+)%s*(.-)%s*$")
    end
    if open and fence and info == "" and fence:sub(1, 1) == open.char and #fence >= open.len then
      open.block.last = i
      open.block.lines = vim.list_slice(lines, open.block.first + 1, i - 1)
      out[#out + 1] = open.block
      open = nil
    elseif not open and fence and not info:find("`", 1, true) then
      local lang = info:match("^([^%s{]+)") or ""
      open = { char = fence:sub(1, 1), len = #fence, block = { first = i, lang = lang } }
    end
  end
  if open then -- still streaming: up to the end
    open.block.last = #lines
    open.block.lines = vim.list_slice(lines, open.block.first + 1, #lines)
    out[#out + 1] = open.block
  end
  return out
end

---The block under the cursor of the chat window (fences included).
---@param s gemini_chat.Session
---@return gemini_chat.CodeBlock?
function M.under_cursor(s)
  local line = vim.api.nvim_win_get_cursor(0)[1]
  for _, b in ipairs(M.blocks(s.buf)) do
    if line >= b.first and line <= b.last then
      return b
    end
  end
  return nil
end

---Move the cursor to the next (`dir` 1) or previous (-1) block's first line of code, going
---round the buffer's end as searches do ('wrapscan').
---@param s gemini_chat.Session
---@param dir 1|-1
function M.jump(s, dir)
  local line = vim.api.nvim_win_get_cursor(0)[1]
  local list = M.blocks(s.buf)
  if #list == 0 then
    vim.notify("Gemini: no code block in the chat", levels.INFO)
    return
  end
  local target = dir == 1 and list[1] or list[#list]
  for i = dir == 1 and 1 or #list, dir == 1 and #list or 1, dir do
    local b = list[i]
    local start = math.min(b.first + 1, b.last)
    if (dir == 1 and start > line) or (dir == -1 and start < line and b.last ~= line) then
      target = b
      break
    end
  end
  vim.cmd("normal! m'") -- back with ``, as after other jumps
  vim.api.nvim_win_set_cursor(0, { math.min(target.first + 1, target.last), 0 })
end

---The block under the cursor, or nil after telling the user.
---@param s gemini_chat.Session
---@return gemini_chat.CodeBlock?
local function block_here(s)
  local b = M.under_cursor(s)
  if not b then
    local key = require("gemini_chat.config").options.keymaps.next_block
    local hint = key and ("; %s goes to the next one"):format(key) or ""
    vim.notify("Gemini: the cursor is not in a code block" .. hint, levels.INFO)
  end
  return b
end

---Yank the code of the block under the cursor (linewise, into v:register).
---@param s gemini_chat.Session
function M.yank(s)
  local b = block_here(s)
  if not b then
    return
  end
  vim.fn.setreg(vim.v.register, b.lines, "l")
  local n = #b.lines
  local lang = b.lang ~= "" and " of " .. b.lang or ""
  vim.notify(("Gemini: yanked %d line%s%s"):format(n, n == 1 and "" or "s", lang), levels.INFO)
end

---Apply the block under the cursor to where the question came from, after a diff.
---@param s gemini_chat.Session
function M.apply(s)
  local b = block_here(s)
  if b then
    require("gemini_chat.apply").run(s, b)
  end
end

return M
