---@mod gemini_chat.sync Buffers the daemon reads instead of their files.
---
---An attached buffer is opened in the daemon (`textDocument/didOpen`, full text) and kept
---current (`didChange`, full sync) just before each message, so an attachment of it carries
---the unsaved text. The daemon reads an open document's text for every attachment of that file,
---so every document opened once is brought up to date before each message.
local client = require("gemini_chat.client")

local M = {}

---Documents open in the daemon, by buffer.
---@type table<integer, {uri: string, tick: integer, root: string}>
local open = {}

---@param buf integer
---@return string
local function text_of(buf)
  local text = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
  if vim.bo[buf].eol or vim.bo[buf].fixeol then
    text = text .. "\n"
  end
  return text
end

---The URI the daemon knows the buffer's file by.
---@param buf integer
---@return string
function M.uri(buf)
  return vim.uri_from_fname(vim.fs.normalize(vim.api.nvim_buf_get_name(buf)))
end

---Tell the daemon the document is gone (the buffer was unloaded or renamed).
---@param buf integer
local function close(buf)
  local doc = open[buf]
  open[buf] = nil
  if doc and client.get() then
    client.notify(doc.root, "textDocument/didClose", { textDocument = { uri = doc.uri } })
  end
end

---Open `buf` in the daemon, or send its text if it changed since.
---@param root string
---@param buf integer
local function sync(root, buf)
  local tick = vim.api.nvim_buf_get_changedtick(buf)
  local doc = open[buf]
  if doc and doc.tick == tick then
    return
  end
  if doc then
    client.notify(root, "textDocument/didChange", {
      textDocument = { uri = doc.uri, version = tick },
      contentChanges = { { text = text_of(buf) } },
    })
    doc.tick = tick
    return
  end
  local uri = M.uri(buf)
  client.notify(root, "textDocument/didOpen", {
    textDocument = {
      uri = uri,
      languageId = vim.bo[buf].filetype,
      version = tick,
      text = text_of(buf),
    },
  })
  open[buf] = { uri = uri, tick = tick, root = root }
  vim.api.nvim_create_autocmd({ "BufUnload", "BufFilePre" }, {
    buffer = buf,
    once = true,
    callback = function()
      close(buf)
    end,
  })
end

---Bring the daemon's copy of every attached buffer up to date, before a message is sent.
---@param root string
---@param pending gemini_chat.Pending[]
function M.flush(root, pending)
  for buf in pairs(open) do
    if vim.api.nvim_buf_is_loaded(buf) then
      sync(root, buf)
    end
  end
  for _, p in ipairs(pending) do
    if p.buf and vim.api.nvim_buf_is_loaded(p.buf) then
      sync(root, p.buf)
    end
  end
end

-- A new daemon knows no documents.
table.insert(client.exit_hooks, function()
  open = {}
end)

return M
