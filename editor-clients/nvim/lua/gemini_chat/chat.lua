---@mod gemini_chat.chat A workspace's conversation: history, sending, stopping, resetting.
local client = require("gemini_chat.client")
local config = require("gemini_chat.config")
local errors = require("gemini_chat.errors")
local input = require("gemini_chat.input")
local reply = require("gemini_chat.reply")
local selection = require("gemini_chat.selection")
local session = require("gemini_chat.session")
local transcript = require("gemini_chat.transcript")
local window = require("gemini_chat.window")

local M = {}

local levels = vim.log.levels

---The session of the current workspace, created with its buffer and keymaps on first use.
---@return gemini_chat.Session
function M.current()
  local root = client.workspace_root()
  local s = session.get(root)
  if s then
    return s
  end
  s = transcript.create(root)
  window.set_keymaps(s, {
    send = function()
      M.send(s)
    end,
    stop = function()
      M.stop(s)
    end,
  })
  return s
end

---Fill the buffer from `gemini/history`, then run `after`.
---@param s gemini_chat.Session
---@param after fun(ok: boolean)
local function load_history(s, after)
  s.waiting = s.waiting or {}
  table.insert(s.waiting, after)
  if s.loading then
    return -- one request serves every caller
  end
  window.set_status(s, "starting…")
  s.loading = true
  client.request(s.root, "gemini/history", { workspace = s.uri }, function(err, result)
    if not s.loading then
      return -- the daemon exited meanwhile and the waiters were told
    end
    s.loading = false
    window.set_status(s, "")
    local waiting = s.waiting
    s.waiting = {}
    if err then
      errors.notify(err)
    else
      window.set_model(s, result.model)
      if not s.loaded then
        transcript.render_history(s, result.turns or {})
        input.focus(s)
      end
    end
    for _, fn in ipairs(waiting) do
      fn(err == nil)
    end
  end)
end

---Finish what the exited daemon will never answer: history loads and replies.
local function on_daemon_exit()
  for _, s in ipairs(session.all()) do
    local waiting = s.loading and s.waiting or {}
    s.loading, s.waiting = false, {}
    if s.request then
      s.request.done = true
      s.request = nil
      reply.fail(s, "error", "**Error:** the daemon stopped")
    end
    window.set_status(s, "")
    for _, fn in ipairs(waiting) do
      fn(false)
    end
  end
end
table.insert(client.exit_hooks, on_daemon_exit)

---What to do with the stream and the answer of `gemini/chat` for `message`.
---@param s gemini_chat.Session
---@param message string
---@return gemini_chat.ChatHandlers
local function chat_handlers(s, message)
  local attachments, labels = s.pending, s.pending_labels
  return {
    on_part = function(value)
      reply.show_part(s, value)
    end,
    on_progress = function(value)
      if value.kind ~= "end" and type(value.message) == "string" then
        reply.status(s, value.message)
      end
    end,
    on_done = function(err, result)
      s.request = nil
      window.set_status(s, "")
      if err then
        local blocked = errors.blocked(err)
        local note = (blocked and "**Blocked:** " or "**Error:** ") .. errors.text(err)
        reply.fail(s, blocked and "stopped" or "error", note)
        errors.notify(err)
        -- Nothing was committed: give the message back for another try.
        if input.text(s) == "" then
          input.set(s, message)
          input.set_pending(s, attachments, labels)
        end
        return
      end
      s.model = result.model
      reply.finish(s, result)
      window.refresh_winbar(s)
    end,
  }
end

---The `gemini/chat` params for `message` with the pending attachments.
---@param s gemini_chat.Session
---@param message string
---@return table
local function chat_params(s, message)
  local params = {
    workspace = s.uri,
    message = message,
    attachments = #s.pending > 0 and s.pending or nil,
  }
  if config.options.show_thoughts then
    params.generationConfig = { thinkingConfig = { includeThoughts = true } }
  end
  return params
end

---Send `message` (or, when nil, the text of the input area) with the pending attachments.
---@param s gemini_chat.Session
---@param message? string
function M.send(s, message)
  if s.request then
    vim.notify("Gemini is still replying; :GeminiChatStop stops it", levels.WARN)
    return
  end
  if not s.loaded then
    -- The reply must land below the history: load it first.
    load_history(s, function(ok)
      if ok then
        M.send(s, message)
      end
    end)
    return
  end
  local draft = nil ---@type string[]?
  if message then
    -- A message from the command line leaves what is being typed in the input area alone.
    draft = input.text(s) ~= "" and input.lines(s) or nil
  else
    message = input.text(s)
  end
  if message == "" and #s.pending == 0 then
    vim.notify("Gemini: type a message under the last '## You' first", levels.WARN)
    return
  end
  local handlers = chat_handlers(s, message)
  local params = chat_params(s, message)
  transcript.begin_turn(s, message, s.pending_labels, draft)
  if vim.api.nvim_get_current_buf() == s.buf then
    input.focus(s)
  end
  window.set_status(s, "replying…")
  s.request = client.chat(s.root, params, handlers)
end

---Add an attachment to the ones waiting for the next message.
---@param s gemini_chat.Session
---@param attachment table
---@param label string
local function add_pending(s, attachment, label)
  local pending, labels = vim.list_extend({}, s.pending), vim.list_extend({}, s.pending_labels)
  pending[#pending + 1] = attachment
  labels[#labels + 1] = label
  input.set_pending(s, pending, labels)
end

---Open the chat of the current workspace; attach lines line1..line2 of the current buffer when
---`range` > 0, and send `args` when it is not blank.
---@param opts {args: string, range: integer, line1: integer, line2: integer}
function M.open(opts)
  local source = vim.api.nvim_get_current_buf()
  local s = M.current()
  local attachment, label
  if opts.range > 0 then
    attachment, label = selection.attachment(source, opts.line1, opts.line2, s.root)
  end
  window.show(s)
  local message = vim.trim(opts.args or "")
  local function go(ok)
    if attachment then
      add_pending(s, attachment, label)
    end
    if message == "" then
      return
    end
    if ok then
      M.send(s, message)
    elseif input.text(s) == "" then
      -- The daemon is not reachable: keep the message for a later try.
      input.set(s, message)
    end
  end
  if s.loaded then
    go(true)
  else
    load_history(s, go)
  end
end

---Cancel the reply in progress of `s` (default: the current workspace's chat).
---@param s? gemini_chat.Session
function M.stop(s)
  s = s or session.get(client.workspace_root())
  if not s or not s.request then
    vim.notify("Gemini: nothing to stop", levels.INFO)
    return
  end
  client.cancel(s.request)
  s.request = nil
  reply.fail(s, "stopped", "_Reply stopped._")
  window.set_status(s, "")
end

---Archive the current workspace's conversation and start a fresh one.
function M.reset()
  local s = M.current()
  if s.request then
    M.stop(s)
  end
  client.request(s.root, "gemini/reset", { workspace = s.uri }, function(err, result)
    if err then
      errors.notify(err)
      return
    end
    transcript.clear(s)
    s.loaded = true
    vim.notify(
      ("Gemini: chat reset (%d entries archived)"):format(tonumber(result.cleared) or 0),
      levels.INFO
    )
  end)
end

return M
