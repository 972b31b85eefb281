---@mod gemini_chat.chat A workspace's conversation: sending, queueing, stopping, resetting.
local client = require("gemini_chat.client")
local config = require("gemini_chat.config")
local errors = require("gemini_chat.errors")
local history = require("gemini_chat.history")
local imagen = require("gemini_chat.imagen")
local input = require("gemini_chat.input")
local reply = require("gemini_chat.reply")
local selection = require("gemini_chat.selection")
local session = require("gemini_chat.session")
local structured = require("gemini_chat.structured")
local sync = require("gemini_chat.sync")
local transcript = require("gemini_chat.transcript")
local window = require("gemini_chat.window")

local M = {}

local levels = vim.log.levels

---The session of the current workspace, created with its buffer and keymaps on first use.
---@return gemini_chat.Session
function M.current()
  require("gemini_chat.live") -- follow the other editors on the folder from now on
  local root = client.workspace_root()
  local s = session.get(root)
  if s then
    return s
  end
  s = transcript.create(root)
  window.follow_size(s)
  local code = function(name, ...)
    local args = { ... }
    return function()
      require("gemini_chat.code")[name](s, unpack(args))
    end
  end
  window.set_keymaps(s, {
    send = function()
      M.send(s)
    end,
    stop = function()
      M.stop(s)
    end,
    resend = function()
      M.resend(s)
    end,
    next_block = code("jump", 1),
    prev_block = code("jump", -1),
    yank_block = code("yank"),
    apply_block = code("apply"),
    detach = function()
      require("gemini_chat.attach").detach(s)
    end,
  })
  return s
end

---Forget our own turn in progress (answered, stopped or lost).
---@param s gemini_chat.Session
local function end_own_turn(s)
  s.request = nil
  if s.own_mark then
    pcall(vim.api.nvim_buf_del_extmark, s.buf, require("gemini_chat.render").ns, s.own_mark)
    s.own_mark = nil
  end
  window.set_status(s, "")
end

---Finish what the exited daemon will never answer: history loads, replies, mirrored turns.
local function on_daemon_exit()
  for _, s in ipairs(session.all()) do
    history.abandon(s)
    if s.request then
      s.request.done = true
      end_own_turn(s)
      reply.fail(s, "error", "**Error:** the daemon stopped")
    end
    require("gemini_chat.mirror").remove(s)
    -- Nothing would send the queued questions: give the first back to type again.
    local first = table.remove(s.queue, 1)
    s.queue = {}
    if first and not first.imagen and input.text(s) == "" then
      input.set(s, first.message)
      input.set_pending(s, first.pending)
    end
    input.show_queue(s)
  end
end
table.insert(client.exit_hooks, on_daemon_exit)

---What to do with the stream and the answer of the turn `item`.
---@param s gemini_chat.Session
---@param item gemini_chat.Queued
---@return gemini_chat.ChatHandlers
local function chat_handlers(s, item)
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
      end_own_turn(s)
      if err then
        local kind, note = errors.note(err)
        reply.fail(s, kind, note, errors.unsaved_text(err))
        errors.notify(err, true)
        -- Nothing was committed: give the message back for another try (an Imagen prompt
        -- stays in the command-line history instead: typed here it would go as a message).
        if input.text(s) == "" and not errors.unsaved_text(err) and not item.imagen then
          input.set(s, item.message)
          input.set_pending(s, item.pending)
        end
      else
        -- An Imagen turn names its Imagen model: the next message's model stays.
        s.model = not item.imagen and result.model or s.model
        s.seen_turn = result.turn
        s.cost = require("gemini_chat.usage").conversation(result.usage) or s.cost
        reply.finish(s, result)
        structured.tell(result)
        window.refresh_winbar(s)
      end
      M.settle(s)
    end,
  }
end

---The generation config of a message: thoughts when asked for; TEXT and IMAGE replies when
---the model is one of Gemini's image models (image editing), unless the reply is JSON.
---@param s gemini_chat.Session
---@param item gemini_chat.Queued
---@return table?
local function generation_config(s, item)
  local gc = {}
  if config.options.show_thoughts then
    gc.thinkingConfig = { includeThoughts = true }
  end
  if not item.json and imagen.edits(s.model or config.options.model) then
    gc.responseModalities = { "TEXT", "IMAGE" }
  end
  return next(gc) and gc or nil
end

---The method and params of the turn `item`, and the labels of its attachments.
---@param s gemini_chat.Session
---@param item gemini_chat.Queued
---@return string method, table params, string[] labels
local function turn_params(s, item)
  if item.imagen then
    local params =
      vim.tbl_extend("force", { workspace = s.uri, prompt = item.message }, item.imagen)
    return "gemini/generateImage", params, {}
  end
  local attachments, labels = {}, {}
  for i, p in ipairs(item.pending) do
    attachments[i], labels[i] = p.attachment, p.label
  end
  return "gemini/chat",
    {
      workspace = s.uri,
      message = item.message,
      attachments = #attachments > 0 and attachments or nil,
      json = item.json,
      generationConfig = generation_config(s, item),
    },
    labels
end

---Send the turn `item` now (nothing else is under way).
---@param s gemini_chat.Session
---@param item gemini_chat.Queued
---@param draft? string[] Text to leave in the input area.
local function send_now(s, item, draft)
  local method, params, labels = turn_params(s, item)
  sync.flush(s.root, item.pending)
  -- An image request: Imagen draws, no reply streams (as another editor's shows, mirror.lua).
  local drawing = item.imagen and imagen.drawing(item.imagen) .. "…"
  local note = item.imagen and imagen.note(item.imagen)
  transcript.begin_turn(s, item.message, labels, draft, note, drawing)
  if vim.api.nvim_get_current_buf() == s.buf then
    input.focus(s)
  end
  window.set_status(s, drawing or "replying…")
  s.request = client.chat(s.root, params, chat_handlers(s, item), method)
end

---When nothing is under way: reload the history if it changed meanwhile, else send the next
---queued question.
---@param s gemini_chat.Session
function M.settle(s)
  if session.busy(s) or not vim.api.nvim_buf_is_valid(s.buf) then
    return
  end
  if s.stale then
    history.load(s) -- settles again once loaded (history.after_load)
    return
  end
  local next_up = table.remove(s.queue, 1)
  if next_up then
    input.show_queue(s)
    send_now(s, next_up)
  end
  window.refresh_winbar(s)
end

history.after_load = M.settle

---Send the turn `item` now, or, while a reply is still coming (ours or another editor's) or
---the history is not in yet, put it in the queue.
---@param s gemini_chat.Session
---@param item gemini_chat.Queued
---@param draft? string[]
local function submit(s, item, draft)
  if not s.loaded or session.busy(s) or #s.queue > 0 then
    -- The reply must land below the history and after the turn under way: wait for them.
    table.insert(s.queue, item)
    input.show_queue(s)
    window.refresh_winbar(s)
    if not s.loaded then
      history.load(s)
    end
    return
  end
  send_now(s, item, draft)
end

---Send `message` (or, when nil, the text of the input area) with the pending attachments, as
---JSON in JSON mode or when `opts.json` (see structured.lua).
---@param s gemini_chat.Session
---@param message? string
---@param opts? {json?: boolean}
function M.send(s, message, opts)
  local draft = nil ---@type string[]?
  local typed = message == nil
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
  local json, err = structured.request(s, opts and opts.json)
  if err then
    vim.notify("Gemini: not sent: " .. err, levels.ERROR)
    return
  end
  local item = { message = message, pending = s.pending, json = json }
  s.pending = {}
  if typed then
    input.set(s, "")
  end
  input.set_pending(s, {})
  submit(s, item, draft)
end

---Ask Imagen for pictures of `prompt` as the chat's next turn (queued like a message); the
---pending attachments stay for the next message.
---@param s gemini_chat.Session
---@param prompt string
---@param opts gemini_chat.Imagen
function M.send_image(s, prompt, opts)
  local draft = input.text(s) ~= "" and input.lines(s) or nil
  submit(s, { message = prompt, pending = {}, imagen = opts }, draft)
end

---Add attachments to the ones waiting for the next message.
---@param s gemini_chat.Session
---@param items gemini_chat.Pending[]
function M.add_pending(s, items)
  input.set_pending(s, vim.list_extend(vim.list_extend({}, s.pending), items))
end

---Open the chat of the current workspace; attach lines line1..line2 of the current buffer when
---`range` > 0, and send `args` when it is not blank.
---@param opts {args: string, range: integer, line1: integer, line2: integer, bang?: boolean}
function M.open(opts)
  local source = vim.api.nvim_get_current_buf()
  local s = M.current()
  local item
  if opts.range > 0 then
    item = selection.attachment(source, opts.line1, opts.line2, s.root)
  end
  window.show(s)
  local message = vim.trim(opts.args or "")
  local function go()
    if item then
      M.add_pending(s, { item })
    end
    if message ~= "" then
      M.send(s, message, { json = opts.bang })
    elseif opts.bang then
      vim.notify("Gemini: :GeminiChat! {message} sends it as JSON; :GeminiChatJson for every one")
    end
  end
  if s.loaded or s.loading then
    go()
  else
    history.load(s, function(ok)
      if ok then
        return go()
      end
      if item then
        M.add_pending(s, { item })
      end
      if message ~= "" and input.text(s) == "" then
        -- The daemon is not reachable: keep the message for a later try.
        input.set(s, message)
      end
    end)
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
  end_own_turn(s)
  reply.fail(s, "stopped", "_Reply stopped._")
  M.settle(s)
end

---Archive the current workspace's conversation and start a fresh one.
function M.reset()
  local s = M.current()
  if s.request then
    M.stop(s)
  end
  s.queue = {}
  input.show_queue(s)
  client.request(s.root, "gemini/reset", { workspace = s.uri }, function(err, result)
    if err then
      errors.notify(err)
      return
    end
    -- The chat shows the store's fresh conversation before the note says so; the daemon's
    -- conversationChanged (reason "reset"), due within 500 ms, then does the session's
    -- bookkeeping, as for a reset from another editor.
    history.load(s, function(ok)
      if ok then
        local cleared = tonumber(result.cleared) or 0
        vim.notify(("Gemini: chat reset (%d entries archived)"):format(cleared), levels.INFO)
      end
    end)
  end)
end

---Send the interrupted question again (the partial reply goes; the question is asked anew);
---an interrupted image request goes again as one, with its parameters, as `:GeminiChatImage`.
---@param s? gemini_chat.Session
function M.resend(s)
  s = s or session.get(client.workspace_root())
  local turn = s and s.interrupted
  if not s or not turn then
    vim.notify("Gemini: no interrupted question to send again", levels.INFO)
    return
  end
  local message = type(turn.message) == "string" and turn.message or ""
  local asked = imagen.asked(turn)
  -- The daemon drops it once our turn is stored: the screen shows the same from now on.
  transcript.drop_interrupted(s)
  if asked then
    return M.send_image(s, message, asked)
  end
  local items, missing = require("gemini_chat.attach").from_names(turn.attachments, s.root)
  if #missing > 0 then
    vim.notify("Gemini: not attached again: " .. table.concat(missing, ", "), levels.WARN)
  end
  table.insert(s.queue, { message = message, pending = items })
  M.settle(s)
end

return M
