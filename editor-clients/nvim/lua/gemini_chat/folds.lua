---@mod gemini_chat.folds Folded blocks of the chat buffer (thoughts, summaries).
---
---Manual folds belong to a window, not to the buffer, so each block is also kept as a range
---extmark: it follows edits, and a window that starts showing the chat gets the folds again.
---A new fold starts closed; one the user opened stays open while the reply streams below it.
local M = {}

local ns = vim.api.nvim_create_namespace("gemini_chat_folds")

---The closed fold's line: the callout's title and how many lines it hides.
---@return table[] chunks
function M.foldtext()
  local first = vim.fn.getline(vim.v.foldstart)
  local title = first:match("^> %[![%w_-]+%]%-? (.+)$") or vim.trim(first)
  local n = vim.v.foldend - vim.v.foldstart
  return {
    { "▸ " .. title, "GeminiChatFold" },
    { ("  %d line%s · zo opens"):format(n, n == 1 and "" or "s"), "GeminiChatHint" },
  }
end

---Fold options for a chat window (manual folds, closed, with our fold line).
---@param win integer
function M.window_options(win)
  local wo = vim.wo[win]
  wo.foldmethod = "manual"
  wo.foldenable = true
  wo.foldlevel = 0
  wo.foldminlines = 0
  wo.foldtext = "v:lua.require'gemini_chat.folds'.foldtext()"
  -- Blank fill after the fold line instead of dashes.
  wo.fillchars = (vim.o.fillchars:gsub(",?fold:[^,]*", "") .. ",fold: "):gsub("^,", "")
end

---@param win integer
---@param first integer 0-based
---@param last integer 0-based, inclusive
local function fold_in(win, first, last)
  vim.api.nvim_win_call(win, function()
    if vim.wo[win].foldmethod == "manual" then
      vim.cmd(("silent! %d,%dfold"):format(first + 1, last + 1))
    end
  end)
end

---Fold rows first..last (0-based, inclusive) of `buf`, closed, in every window showing it.
---@param buf integer
---@param first integer
---@param last integer
function M.add(buf, first, last)
  if last <= first then
    return -- a lone header line has nothing to hide
  end
  vim.api.nvim_buf_set_extmark(buf, ns, first, 0, { end_row = last, end_col = 0 })
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do
    fold_in(win, first, last)
  end
end

---Forget the folds starting in rows first..last (0-based, inclusive), e.g. before those lines
---are rewritten: a manual fold would otherwise shrink onto whatever replaces them.
---@param buf integer
---@param first integer
---@param last integer
function M.remove(buf, first, last)
  if last < first then
    return
  end
  local marks = vim.api.nvim_buf_get_extmarks(buf, ns, { first, 0 }, { last, -1 }, {})
  if #marks == 0 then
    return
  end
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do
    vim.api.nvim_win_call(win, function()
      local view = vim.fn.winsaveview()
      for _, m in ipairs(marks) do
        if vim.fn.foldlevel(m[2] + 1) > 0 then
          vim.api.nvim_win_set_cursor(win, { m[2] + 1, 0 })
          vim.cmd("silent! normal! zD")
        end
      end
      vim.fn.winrestview(view)
    end)
  end
  for _, m in ipairs(marks) do
    vim.api.nvim_buf_del_extmark(buf, ns, m[1])
  end
end

---Every folded block of `buf`, as 0-based {first, last} rows.
---@param buf integer
---@return integer[][]
function M.ranges(buf)
  local out = {}
  for _, m in ipairs(vim.api.nvim_buf_get_extmarks(buf, ns, 0, -1, { details = true })) do
    out[#out + 1] = { m[2], m[4].end_row }
  end
  return out
end

---Give a window that newly shows `buf` its folds, all closed.
---@param buf integer
---@param win integer
function M.apply(buf, win)
  vim.api.nvim_win_call(win, function()
    vim.cmd("silent! normal! zE")
  end)
  for _, range in ipairs(M.ranges(buf)) do
    fold_in(win, range[1], range[2])
  end
end

---Drop every fold of `buf` (the buffer is being cleared).
---@param buf integer
function M.clear(buf)
  vim.api.nvim_buf_clear_namespace(buf, ns, 0, -1)
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do
    vim.api.nvim_win_call(win, function()
      vim.cmd("silent! normal! zE")
    end)
  end
end

return M
