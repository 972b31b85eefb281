---@mod gemini_chat.attach Files and buffers attached to the next message.
---
---A file inside the workspace goes as its `uri`: the daemon reads it (text, images, PDF, audio
---and video alike) or, for a buffer with unsaved changes, the text synced to it (sync.lua). A
---buffer outside the workspace, or without a file, goes as its text.
local session = require("gemini_chat.session")

local M = {}

local levels = vim.log.levels

-- What the daemon sends as media rather than text, by extension: shown after the size.
local media = {
  png = "image",
  jpg = "image",
  jpeg = "image",
  webp = "image",
  heic = "image",
  heif = "image",
  gif = "image",
  pdf = "PDF",
  wav = "audio",
  mp3 = "audio",
  aiff = "audio",
  aac = "audio",
  ogg = "audio",
  flac = "audio",
  mp4 = "video",
  mov = "video",
  webm = "video",
  avi = "video",
  mpeg = "video",
}

---A size as people read it: 812 B, 4.2 KB, 3.1 MB.
---@param bytes integer
---@return string
function M.size(bytes)
  if bytes < 1000 then
    return ("%d B"):format(bytes)
  elseif bytes < 1000 * 1000 then
    return ("%.1f KB"):format(bytes / 1000)
  end
  return ("%.1f MB"):format(bytes / 1000 / 1000)
end

---`path` relative to `root` when it lies inside it (symlinks resolved), else nil.
---@param root string
---@param path string
---@return string?
function M.inside(root, path)
  local real_root = vim.uv.fs_realpath(root) or root
  local real = vim.uv.fs_realpath(path) or vim.fs.normalize(path)
  if vim.startswith(real, real_root .. "/") then
    return real:sub(#real_root + 2)
  end
  return nil
end

---The whole of buffer `buf`, unsaved changes included.
---@param buf integer
---@param root string
---@return gemini_chat.Pending
function M.buffer(buf, root)
  local name = vim.api.nvim_buf_get_name(buf)
  local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  local bytes = #table.concat(lines, "\n")
  local rel = name ~= "" and vim.bo[buf].buftype == "" and M.inside(root, name)
  local modified = vim.bo[buf].modified and ", unsaved" or ""
  if rel then
    local attachment = { uri = vim.uri_from_fname(vim.fs.normalize(name)) }
    return { attachment = attachment, label = rel, detail = M.size(bytes) .. modified, buf = buf }
  end
  local label = name ~= "" and vim.fn.fnamemodify(name, ":t") or "[No Name]"
  return {
    attachment = { name = label, text = table.concat(lines, "\n") },
    label = label,
    detail = M.size(bytes) .. ", text",
  }
end

---The file at `path`: nil and why when it cannot be attached.
---@param path string
---@param root string
---@return gemini_chat.Pending? item, string? err
function M.file(path, root)
  local full = vim.fs.normalize(vim.fn.fnamemodify(path, ":p"))
  local stat = vim.uv.fs_stat(full)
  if not stat then
    return nil, ("%s: no such file"):format(path)
  elseif stat.type ~= "file" then
    return nil, ("%s is not a file"):format(path)
  end
  local rel = M.inside(root, full)
  if not rel then
    return nil,
      ("%s is outside the workspace %s: only its files can be attached"):format(path, root)
  end
  local buf = vim.fn.bufnr(full)
  if buf ~= -1 and vim.api.nvim_buf_is_loaded(buf) and vim.bo[buf].modified then
    return M.buffer(buf, root)
  end
  local kind = media[(full:match("%.([%w]+)$") or ""):lower()]
  return {
    attachment = { uri = vim.uri_from_fname(full) },
    label = rel,
    detail = M.size(stat.size) .. (kind and ", " .. kind or ""),
  }
end

---`:GeminiChatAttach [path ...]`: attach files, or the current buffer (`%`, or no argument; from
---the chat buffer, the buffer of the last window), and show the list above the input area.
---@param paths string[]
function M.run(paths)
  local chat = require("gemini_chat.chat")
  local here = vim.api.nvim_get_current_buf()
  local s = chat.current()
  local items, problems = {}, {}
  if #paths == 0 then
    paths = { "%" }
  end
  for _, path in ipairs(paths) do
    local item, err
    if path == "%" then
      local win = here == s.buf and require("gemini_chat.window").last_window(s)
      local buf = here ~= s.buf and here or (win and vim.api.nvim_win_get_buf(win))
      item = buf and M.buffer(buf, s.root)
      err = not buf and "no buffer to attach: open a file first" or nil
    else
      item, err = M.file(vim.fn.expand(path), s.root)
    end
    items[#items + 1] = item
    problems[#problems + 1] = err
  end
  if #problems > 0 then
    vim.notify("Gemini: " .. table.concat(problems, "; "), levels.WARN)
  end
  if #items > 0 then
    chat.add_pending(s, items)
    chat.open({ args = "", range = 0, line1 = 0, line2 = 0 })
  end
end

---Remove the attachment labelled `label` from the next message; without one, ask which (or
---take the only one); `all` removes every one.
---@param s? gemini_chat.Session
---@param label? string
---@param all? boolean
function M.detach(s, label, all)
  s = s or session.get(require("gemini_chat.client").workspace_root())
  local input = require("gemini_chat.input")
  if not s or #s.pending == 0 then
    vim.notify("Gemini: nothing is attached", levels.INFO)
    return
  end
  local function drop(choice)
    input.set_pending(
      s,
      vim.tbl_filter(function(p)
        return not all and p ~= choice
      end, s.pending)
    )
  end
  if all or #s.pending == 1 then
    return drop(s.pending[1])
  end
  for _, p in ipairs(s.pending) do
    if label and p.label == label then
      return drop(p)
    end
  end
  vim.ui.select(s.pending, {
    prompt = "Remove which attachment?",
    format_item = function(p)
      return p.label .. (p.detail and ("  (%s)"):format(p.detail) or "")
    end,
  }, function(choice)
    if choice then
      drop(choice)
    end
  end)
end

---Labels of the pending attachments, for `:GeminiChatDetach <Tab>`.
---@param lead string
---@return string[]
function M.complete_pending(lead)
  local s = session.get(require("gemini_chat.client").workspace_root())
  local out = {}
  for _, p in ipairs(s and s.pending or {}) do
    if vim.startswith(p.label, lead) then
      out[#out + 1] = p.label
    end
  end
  return out
end

---The file and the 1-based lines of an attachment's label: `src/a.py:3-9`, `src/a.py:4`,
---`src/a.py` (no lines: the whole file).
---@param label string
---@return string path, integer? first, integer? last
function M.parse_label(label)
  local path, first, last = label:match("^(.-):(%d+)%-(%d+)$")
  if not path then
    path, first = label:match("^(.-):(%d+)$")
    last = first
  end
  return path or label, tonumber(first), tonumber(last)
end

---Attachments again from the names a stored turn shows (`src/a.py`, `src/a.py:3-9`): the files
---that still exist in the workspace; the other names come back in `missing`.
---@param shown table[]? `{name, mimeType}` items
---@param root string
---@return gemini_chat.Pending[] items, string[] missing
function M.from_names(shown, root)
  local items, missing = {}, {}
  for _, a in ipairs(type(shown) == "table" and shown or {}) do
    local name = tostring(a.name or "")
    local path, first, last = M.parse_label(name)
    local item = path ~= "" and M.file(root .. "/" .. path, root) or nil
    if item and first then
      item.attachment.range = {
        start = { line = first - 1, character = 0 },
        ["end"] = { line = last, character = 0 },
      }
      item.label = name
    end
    if item then
      items[#items + 1] = item
    else
      missing[#missing + 1] = name
    end
  end
  return items, missing
end

return M
