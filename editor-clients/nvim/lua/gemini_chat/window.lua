---@mod gemini_chat.window The chat window: layout, window options, winbar.
local config = require("gemini_chat.config")
local folds = require("gemini_chat.folds")
local input = require("gemini_chat.input")

local M = {}

---A size in cells: `size` cells, or that fraction of `total` when below 1.
---@param total number
---@param size number
---@return integer
local function dimension(total, size)
  if size < 1 then
    return math.max(1, math.floor(total * size))
  end
  return math.min(total, math.floor(size))
end

---Open `buf` in a focused float of `width` x `height` cells in the middle of the editor, with a
---rounded border and a centred title; `extra` adds to (or overrides) that config.
---@param buf integer
---@param width integer
---@param height integer
---@param extra vim.api.keyset.win_config
---@return integer win
function M.open_centred(buf, width, height, extra)
  return vim.api.nvim_open_win(
    buf,
    true,
    vim.tbl_extend("force", {
      relative = "editor",
      width = width,
      height = height,
      row = math.floor((vim.o.lines - height) / 2) - 1,
      col = math.floor((vim.o.columns - width) / 2),
      border = "rounded",
      title_pos = "center",
    }, extra)
  )
end

---A centred floating window; fractions of the editor are at least 60% wide, 70% high.
---@param buf integer
---@param win_opts gemini_chat.WindowOpts
---@return integer win
local function open_float(buf, win_opts)
  local w, h = win_opts.width, win_opts.height
  local width = dimension(vim.o.columns, w < 1 and math.max(w, 0.6) or w)
  local height = dimension(vim.o.lines, h < 1 and math.max(h, 0.7) or h)
  return M.open_centred(buf, width, height, { title = " Gemini Chat " })
end

---@param s gemini_chat.Session
---@return integer win
local function open_window(s)
  local win_opts = config.options.window
  local layout = win_opts.layout
  if layout == "float" then
    return open_float(s.buf, win_opts)
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
  input.focus(s)
  return win
end

---@param text string
---@return string
local function escape_statusline(text)
  return (text:gsub("%%", "%%%%"))
end

---Show workspace, model and status in the chat windows' winbar.
---@param s gemini_chat.Session
function M.refresh_winbar(s)
  local now = {} -- what is happening: shown first, never cut
  if s.status ~= "" then
    now[#now + 1] = s.status
  end
  if s.mirror then
    now[#now + 1] = s.mirror.drawing and "⟳ another editor is drawing…"
      or "⟳ another editor is replying…"
  end
  if #s.queue > 0 then
    now[#now + 1] = ("%d queued"):format(#s.queue)
  end
  if s.json_mode then
    now[#now + 1] = require("gemini_chat.structured").label(s)
  end
  -- Until the daemon says which model the workspace uses, the `model` option is the best guess.
  local model = s.model or config.options.model
  local left = "%#GeminiChatGemini# ✦ Gemini %#GeminiChatStatus#"
    .. escape_statusline(table.concat(now, " · "))
  local used = vim.fn.strdisplaywidth(" ✦ Gemini " .. table.concat(now, " · "))
  for _, win in ipairs(vim.fn.win_findbuf(s.buf)) do
    if vim.api.nvim_win_get_config(win).relative == "" then
      -- Workspace and model go right, as many of them as fit beside the status.
      local about = { vim.fs.basename(s.root), model }
      local room = vim.api.nvim_win_get_width(win) - used - 2
      while #about > 0 and vim.fn.strdisplaywidth(table.concat(about, " · ")) > room do
        table.remove(about, 1)
      end
      local right = escape_statusline(table.concat(about, " · "))
      vim.wo[win].winbar = left .. "%#GeminiChatHint#%<%=" .. right .. " "
    end
  end
end

---Redraw the winbar when a chat window changes size (what fits beside the status changes).
---@param s gemini_chat.Session
function M.follow_size(s)
  vim.api.nvim_create_autocmd("WinResized", {
    callback = function()
      if not vim.api.nvim_buf_is_valid(s.buf) then
        return true -- the chat is gone: drop this autocmd
      end
      if #vim.fn.win_findbuf(s.buf) > 0 then
        M.refresh_winbar(s)
      end
    end,
  })
end

---Set the status shown in the winbar ("" for none).
---@param s gemini_chat.Session
---@param status string
function M.set_status(s, status)
  s.status = status
  M.refresh_winbar(s)
end

---Show `model`, the one the workspace's next turn uses (from the daemon), in the winbar.
---@param s gemini_chat.Session
---@param model string
function M.set_model(s, model)
  s.model = model
  M.refresh_winbar(s)
end

-- What each key of `keymaps` does in the chat buffer, in the order :help lists them.
local key_descriptions = {
  { "send", "n", "send the message" },
  { "send_insert", { "n", "i" }, "send the message" },
  { "stop", "n", "stop the reply" },
  { "resend", "n", "send the interrupted question again" },
  { "next_block", { "n", "x", "o" }, "next code block" },
  { "prev_block", { "n", "x", "o" }, "previous code block" },
  { "yank_block", "n", "yank the code block under the cursor" },
  { "apply_block", "n", "apply the code block (shows a diff first)" },
  { "detach", "n", "remove an attachment of the next message" },
}

---The chat buffer's keymaps.
---@param s gemini_chat.Session
---@param actions table<string, fun()> By the name of its key in `keymaps`.
function M.set_keymaps(s, actions)
  local keys = config.options.keymaps
  for _, k in ipairs(key_descriptions) do
    local name, mode, desc = k[1], k[2], k[3]
    local fn = actions[name == "send_insert" and "send" or name]
    if keys[name] and fn then
      vim.keymap.set(
        mode,
        keys[name],
        fn,
        { buffer = s.buf, desc = "Gemini: " .. desc, nowait = true }
      )
    end
  end
  if keys.close then
    vim.keymap.set("n", keys.close, function()
      pcall(vim.api.nvim_win_close, 0, false)
    end, { buffer = s.buf, desc = "Gemini: close the chat window", nowait = true })
  end
end

---The window the user worked in before the chat: the previous window of this tab when it shows
---a file, else the first window that does.
---@param s gemini_chat.Session
---@return integer? win
function M.last_window(s)
  local function usable(win)
    local buf = vim.api.nvim_win_get_buf(win)
    return buf ~= s.buf
      and vim.bo[buf].buftype == ""
      and vim.api.nvim_win_get_config(win).relative == ""
  end
  local current = vim.api.nvim_get_current_win()
  if usable(current) then
    return current
  end
  local previous = vim.fn.win_getid(vim.fn.winnr("#"))
  if previous ~= 0 and usable(previous) then
    return previous
  end
  for _, win in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
    if usable(win) then
      return win
    end
  end
  return nil
end

return M
