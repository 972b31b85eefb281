---@mod gemini_chat.apply A code block applied to a buffer, after its diff is accepted.
---
---The block goes where the question came from: the file and lines attached to that exchange
---(`> attached: src/a.py:3-9`; a whole file when no lines are named), else below the cursor of
---the last window. It is re-indented to the lines it replaces (or the cursor's line). The change
---shows as a unified diff (`vim.diff`) in a float; nothing changes until it is accepted, and
---then only the buffer (`:w` writes it, `u` undoes it).
local attach = require("gemini_chat.attach")
local config = require("gemini_chat.config")
local window = require("gemini_chat.window")

local M = {}

local levels = vim.log.levels

---@class gemini_chat.Target
---@field buf integer
---@field first integer 1-based first line replaced.
---@field last integer 1-based last line replaced (first - 1: an insertion).
---@field label string What the diff's title calls it.
---@field indent? string The indent the block takes (nil: as it is).

---Below the cursor line of `buf` (its window's, else where the cursor last was).
---@param buf integer
---@param label string
---@return gemini_chat.Target
local function below_cursor(buf, label)
  local win = vim.fn.bufwinid(buf)
  local line = win ~= -1 and vim.api.nvim_win_get_cursor(win)[1]
    or math.max(1, vim.api.nvim_buf_get_mark(buf, '"')[1])
  local text = vim.api.nvim_buf_get_lines(buf, line - 1, line, false)[1] or ""
  return {
    buf = buf,
    first = line + 1,
    last = line,
    label = ("%s, below line %d"):format(label, line),
    indent = text:match("^%s*"),
  }
end

---The target named by an attachment label of the exchange, if its file exists. A whole file
---attached takes a block of (nearly) its size in its place, a smaller one below its cursor. A
---path that leads out of the workspace is refused: nil and why.
---@param root string
---@param label string
---@param size integer The block's number of lines.
---@return gemini_chat.Target? target, string? err
local function from_label(root, label, size)
  local path, first, last = attach.parse_label(label)
  local full = vim.fs.normalize(root .. "/" .. path)
  local buf = vim.fn.bufnr(full)
  if buf == -1 and not vim.uv.fs_stat(full) then
    return nil
  elseif not attach.inside(root, full) then
    return nil, ("%s is outside the workspace %s: not applying the block there"):format(path, root)
  end
  buf = buf ~= -1 and buf or vim.fn.bufadd(full)
  vim.fn.bufload(buf)
  local count = vim.api.nvim_buf_line_count(buf)
  if not first and size >= 0.6 * count then
    return { buf = buf, first = 1, last = count, label = path }
  elseif not first then
    return below_cursor(buf, path)
  end
  last = math.min(last or first, count)
  local indent = nil ---@type string?
  for _, line in ipairs(vim.api.nvim_buf_get_lines(buf, first - 1, last, false)) do
    if line:find("%S") then
      indent = line:match("^%s*")
      break
    end
  end
  return { buf = buf, first = first, last = last, label = label, indent = indent or "" }
end

---Where block `b` of the chat goes (nil and why when it goes nowhere).
---@param s gemini_chat.Session
---@param b gemini_chat.CodeBlock
---@return gemini_chat.Target? target, string? err
function M.target(s, b)
  local lines = vim.api.nvim_buf_get_lines(s.buf, 0, b.first - 1, false)
  for i = #lines, 1, -1 do
    if lines[i] == "## You" then
      -- Only the question's own lines count: the reply under "## Gemini" may quote anything.
      for j = i + 1, #lines do
        if lines[j] == "## Gemini" then
          break
        end
        local label = lines[j]:match("^> attached: (.+)$")
        if label then
          local t, err = from_label(s.root, label, #b.lines)
          if t or err then
            return t, err
          end
        end
      end
      break
    end
  end
  local win = window.last_window(s)
  if not win then
    return nil
  end
  local buf = vim.api.nvim_win_get_buf(win)
  local name = vim.api.nvim_buf_get_name(buf)
  return below_cursor(buf, name ~= "" and vim.fn.fnamemodify(name, ":~:.") or "[No Name]")
end

---`lines` moved to `indent`, keeping their indentation relative to each other.
---@param lines string[]
---@param indent string
---@return string[]
function M.reindent(lines, indent)
  local common = nil ---@type integer?
  for _, line in ipairs(lines) do
    if line:find("%S") then
      local n = #line:match("^%s*")
      common = common and math.min(common, n) or n
    end
  end
  return vim.tbl_map(function(line)
    return line:find("%S") and indent .. line:sub((common or 0) + 1) or ""
  end, lines)
end

---@param lines string[]
---@return string
local function joined(lines)
  return #lines > 0 and table.concat(lines, "\n") .. "\n" or ""
end

---The size of a float showing `lines`: as wide as the widest (at least 60), within the editor.
---@param lines string[]
---@return integer width, integer height
local function float_size(lines)
  local widest = 0
  for _, line in ipairs(lines) do
    widest = math.max(widest, vim.fn.strdisplaywidth(line))
  end
  return math.min(vim.o.columns - 6, math.max(60, widest + 2)), math.min(vim.o.lines - 6, #lines)
end

---Show the diff in a float; `on_accept` runs when it is accepted.
---@param t gemini_chat.Target
---@param diff string
---@param on_accept fun()
local function show_diff(t, diff, on_accept)
  local keys = config.options.keymaps
  local lines = { "--- " .. t.label, "+++ " .. t.label .. " (with the code block)" }
  vim.list_extend(lines, vim.split(diff, "\n", { plain = true, trimempty = true }))
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].filetype = "diff"
  vim.bo[buf].modifiable = false
  vim.bo[buf].bufhidden = "wipe"
  local width, height = float_size(lines)
  local accept, reject = keys.accept or "<CR>", keys.reject or "q"
  local win = window.open_centred(buf, width, height, {
    title = (" Apply to %s? "):format(t.label),
    footer = (" %s accept · %s reject "):format(accept, reject),
    footer_pos = "center",
  })
  vim.wo[win].wrap = false
  local function close()
    pcall(vim.api.nvim_win_close, win, true)
  end
  local opts = { buffer = buf, nowait = true }
  vim.keymap.set("n", accept, function()
    close()
    on_accept()
  end, opts)
  for _, lhs in ipairs({ reject, "q", "<Esc>" }) do
    vim.keymap.set("n", lhs, function()
      close()
      vim.notify("Gemini: change not applied", levels.INFO)
    end, opts)
  end
end

---Apply code block `b` of the chat of `s`, once its diff is accepted.
---@param s gemini_chat.Session
---@param b gemini_chat.CodeBlock
function M.run(s, b)
  local t, err = M.target(s, b)
  if not t then
    err = err or "no file to apply the block to: open one in a window first"
    vim.notify("Gemini: " .. err, levels.WARN)
    return
  end
  local new = t.indent and M.reindent(b.lines, t.indent) or b.lines
  local old = vim.api.nvim_buf_get_lines(t.buf, 0, -1, false)
  local after = vim.list_slice(old, 1, t.first - 1)
  vim.list_extend(vim.list_extend(after, new), vim.list_slice(old, t.last + 1))
  local diff = vim.diff(joined(old), joined(after), { ctxlen = 3 }) --[[@as string]]
  if diff == "" then
    vim.notify("Gemini: the block is already there: nothing to change", levels.INFO)
    return
  end
  local tick = vim.api.nvim_buf_get_changedtick(t.buf)
  show_diff(t, diff, function()
    if not vim.api.nvim_buf_is_loaded(t.buf) or vim.api.nvim_buf_get_changedtick(t.buf) ~= tick then
      vim.notify("Gemini: the buffer changed since the diff was shown; apply again", levels.WARN)
      return
    end
    vim.api.nvim_buf_set_lines(t.buf, t.first - 1, t.last, false, new)
    vim.notify(
      ("Gemini: applied to %s (not written: :w saves, u undoes)"):format(t.label),
      levels.INFO
    )
  end)
end

return M
