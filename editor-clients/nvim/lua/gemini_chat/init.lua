---@mod gemini_chat Chat with Google's Gemini in Neovim, through the gemini-chat daemon.
local blocks = require("gemini_chat.blocks")
local client = require("gemini_chat.client")
local config = require("gemini_chat.config")
local ui = require("gemini_chat.ui")

local M = {}

---A per-turn model, only for a daemon that cannot remember one per workspace (no
---`gemini/setModel`); nil lets the daemon pick (the workspace's model, else the setting).
M.model = nil ---@type string?

local levels = vim.log.levels
local show_model -- defined below, used by the history loader

---Configure the plugin. Optional: every option has a default.
---@param opts? gemini_chat.Opts
function M.setup(opts)
  config.set(opts)
  ui.model_label = M.model or config.options.model
end

local KEY_HINT = "In Neovim: export GEMINI_API_KEY before starting nvim, or set "
  .. "require('gemini_chat').setup({ api_key_cmd = { 'pass', 'show', 'gemini' } })."

---The error's message; for a block, with its reason and categories if the message lacks them.
---@param err table
---@return string
function M.error_text(err)
  local data = type(err.data) == "table" and err.data or {}
  local msg = tostring(err.message or "unknown error")
  if data.reason ~= "blocked" then
    return msg
  end
  local names = { data.blockReason }
  if type(data.categories) == "table" then
    vim.list_extend(names, data.categories)
  end
  local missing = {}
  local lower = msg:lower()
  for _, name in ipairs(names) do
    -- The daemon may say HARM_CATEGORY_DANGEROUS_CONTENT as "dangerous content".
    local words = type(name) == "string" and name:gsub("^HARM_CATEGORY_", ""):gsub("_", " ")
    if words and not msg:find(name, 1, true) and not lower:find(words:lower(), 1, true) then
      missing[#missing + 1] = name
    end
  end
  if #missing > 0 then
    msg = ("%s (%s)"):format(msg, table.concat(missing, ", "))
  end
  return msg
end

---Tell the user about a daemon error, at a level matching its reason.
---@param err table
function M.notify_error(err)
  local data = type(err.data) == "table" and err.data or {}
  local reason = data.reason
  local level = (reason == "rateLimited" or reason == "blocked") and levels.WARN or levels.ERROR
  local msg = M.error_text(err)
  if reason == "apiKeyMissing" then
    msg = msg .. "\n" .. KEY_HINT
  end
  vim.notify("Gemini: " .. msg, level)
end

---@param line string
---@return integer
local function utf16_len(line)
  if vim.fn.has("nvim-0.11") == 1 then
    return vim.str_utfindex(line, "utf-16")
  end
  local _, n = vim.str_utfindex(line)
  return n
end

---An attachment for lines line1..line2 of `buf`: its uri and range when the daemon can read
---the saved file inside the workspace, else the text itself.
---@param buf integer
---@param line1 integer
---@param line2 integer
---@param root string
---@return table attachment, string label
function M.selection(buf, line1, line2, root)
  local name = vim.api.nvim_buf_get_name(buf)
  local lines = vim.api.nvim_buf_get_lines(buf, line1 - 1, line2, false)
  local inside = name ~= "" and vim.startswith(vim.fs.normalize(name), root .. "/")
  local label = name ~= "" and vim.fn.fnamemodify(name, ":t") or "selection"
  if inside then
    label = vim.fs.normalize(name):sub(#root + 2)
  end
  label = line1 == line2 and ("%s:%d"):format(label, line1)
    or ("%s:%d-%d"):format(label, line1, line2)
  if inside and vim.bo[buf].buftype == "" and not vim.bo[buf].modified then
    return {
      uri = vim.uri_from_fname(vim.fs.normalize(name)),
      range = {
        start = { line = line1 - 1, character = 0 },
        ["end"] = { line = line2 - 1, character = utf16_len(lines[#lines] or "") },
      },
    },
      label
  end
  -- Unsaved or outside the workspace: the daemon cannot read it from disk, so send the text.
  return { name = label, text = table.concat(lines, "\n") }, label
end

---The session of the current workspace, with its keymaps.
---@return gemini_chat.Session
local function current_session()
  local root = client.workspace_root()
  local existed = ui.sessions[root] ~= nil and vim.api.nvim_buf_is_valid(ui.sessions[root].buf)
  local s = ui.session(root)
  if not existed then
    ui.set_keymaps(s, {
      send = function()
        M.send(s)
      end,
      stop = function()
        M.stop(s)
      end,
    })
  end
  return s
end

---Show `model` (the one the workspace's next turn uses) in the winbar; without it (an older
---daemon), the daemon's default from `gemini/status`.
---@param s gemini_chat.Session
---@param model any
show_model = function(s, model)
  if type(model) == "string" and model ~= "" then
    s.model = model
    ui.refresh_winbar(s)
    return
  end
  client.request(s.root, "gemini/status", vim.empty_dict(), function(err, result)
    if not err and type(result) == "table" and type(result.model) == "string" then
      s.model = M.model or result.model
      ui.refresh_winbar(s)
    end
  end)
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
  ui.set_status(s, "starting…")
  s.loading = true
  client.request(s.root, "gemini/history", { workspace = s.uri }, function(err, result)
    if not s.loading then
      return -- the daemon exited meanwhile and the waiters were told
    end
    s.loading = false
    ui.set_status(s, "")
    local waiting = s.waiting
    s.waiting = {}
    if err then
      M.notify_error(err)
    else
      show_model(s, result.model)
      if not s.loaded then
        ui.render_history(s, result.turns or {})
        ui.focus_input(s)
      end
    end
    for _, fn in ipairs(waiting) do
      fn(err == nil)
    end
  end)
end

---Finish what the exited daemon will never answer: history loads and replies.
local function on_daemon_exit()
  for _, s in pairs(ui.sessions) do
    if vim.api.nvim_buf_is_valid(s.buf) then
      local waiting = s.loading and s.waiting or {}
      s.loading, s.waiting = false, {}
      if s.request then
        s.request.done = true
        s.request = nil
        ui.fail(s, "error", "**Error:** the daemon stopped")
      end
      ui.set_status(s, "")
      for _, fn in ipairs(waiting) do
        fn(false)
      end
    end
  end
end
table.insert(client.exit_hooks, on_daemon_exit)

---Show a partial result of `gemini/chat`: answer text, thoughts, a tool call, an image or a
---compaction notice.
---@param s gemini_chat.Session
---@param value table
function M.show_part(s, value)
  if type(value.text) == "string" then
    ui.append(s, value.text)
  end
  if type(value.thought) == "string" then
    ui.append_thought(s, value.thought)
  end
  if type(value.tool) == "table" then
    ui.add_tool(s, value.tool)
  end
  if type(value.image) == "table" then
    ui.add_image(s, value.image)
  end
  local n = blocks.compacted_turns(value.compacted)
  if n then
    ui.add_compacted(s, n)
  end
end

---@param s gemini_chat.Session
---@param message string
---@return gemini_chat.ChatHandlers
local function chat_handlers(s, message)
  local attachments, labels = s.pending, s.pending_labels
  return {
    on_part = function(value)
      M.show_part(s, value)
    end,
    on_progress = function(value)
      if value.kind ~= "end" and type(value.message) == "string" then
        ui.reply_status(s, value.message)
      end
    end,
    on_done = function(err, result)
      s.request = nil
      ui.set_status(s, "")
      if err then
        local blocked = type(err.data) == "table" and err.data.reason == "blocked"
        ui.fail(
          s,
          blocked and "stopped" or "error",
          (blocked and "**Blocked:** " or "**Error:** ") .. M.error_text(err)
        )
        M.notify_error(err)
        -- Nothing was committed: give the message back for another try.
        if ui.input_text(s) == "" then
          ui.set_input(s, message)
          ui.set_pending(s, attachments, labels)
        end
        return
      end
      if type(result.model) == "string" and not M.model then
        s.model = result.model
      end
      ui.finish(s, result)
      ui.refresh_winbar(s)
    end,
  }
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
    draft = ui.input_text(s) ~= "" and ui.input_lines(s) or nil
  else
    message = ui.input_text(s)
  end
  if message == "" and #s.pending == 0 then
    vim.notify("Gemini: type a message under the last '## You' first", levels.WARN)
    return
  end
  local handlers = chat_handlers(s, message)
  local params = {
    workspace = s.uri,
    message = message,
    attachments = #s.pending > 0 and s.pending or nil,
    model = M.model,
  }
  if config.options.show_thoughts then
    params.generationConfig = { thinkingConfig = { includeThoughts = true } }
  end
  ui.begin_turn(s, message, s.pending_labels, draft)
  if vim.api.nvim_get_current_buf() == s.buf then
    ui.focus_input(s)
  end
  ui.set_status(s, "replying…")
  s.request = client.chat(s.root, params, handlers)
end

---`:GeminiChat [message]`, with an optional range to attach.
---@param opts {args: string, range: integer, line1: integer, line2: integer}
function M.command_chat(opts)
  local source = vim.api.nvim_get_current_buf()
  local s = current_session()
  local attachment, label
  if opts.range > 0 then
    attachment, label = M.selection(source, opts.line1, opts.line2, s.root)
  end
  ui.show(s)
  local message = vim.trim(opts.args or "")
  local function go(ok)
    if attachment then
      local pending, labels = vim.list_extend({}, s.pending), vim.list_extend({}, s.pending_labels)
      pending[#pending + 1] = attachment
      labels[#labels + 1] = label
      ui.set_pending(s, pending, labels)
    end
    if message == "" then
      return
    end
    if ok then
      M.send(s, message)
    elseif ui.input_text(s) == "" then
      -- The daemon is not reachable: keep the message for a later try.
      ui.set_input(s, message)
    end
  end
  if s.loaded then
    go(true)
  else
    load_history(s, go)
  end
end

---`:GeminiChatStop`: cancel the reply in progress.
---@param s? gemini_chat.Session
function M.stop(s)
  s = s or ui.sessions[client.workspace_root()]
  if not s or not s.request then
    vim.notify("Gemini: nothing to stop", levels.INFO)
    return
  end
  client.cancel(s.request)
  s.request = nil
  ui.fail(s, "stopped", "_Reply stopped._")
  ui.set_status(s, "")
end

---`:GeminiChatReset`: archive the conversation and start a fresh one.
function M.reset()
  local s = current_session()
  if s.request then
    M.stop(s)
  end
  client.request(s.root, "gemini/reset", { workspace = s.uri }, function(err, result)
    if err then
      M.notify_error(err)
      return
    end
    ui.clear(s)
    s.loaded = true
    vim.notify(
      ("Gemini: chat reset (%d entries archived)"):format(tonumber(result.cleared) or 0),
      levels.INFO
    )
  end)
end

---Show `model` for the chat of `root`, if it is open.
---@param root string
---@param model string?
local function label_model(root, model)
  local s = ui.sessions[root]
  if s and vim.api.nvim_buf_is_valid(s.buf) and model then
    s.model = model
    ui.refresh_winbar(s)
  end
end

---An older daemon without `gemini/setModel`: send `name` with each turn of this session.
---@param root string
---@param name string?
local function set_model_per_turn(root, name)
  M.model = name
  label_model(root, name or ui.model_label)
  vim.notify(
    ("Gemini: model %s for this Neovim session (the daemon cannot remember it)"):format(
      name or "default"
    ),
    levels.INFO
  )
end

---Make `name` the model of the current workspace (`nil`: back to the `model` setting). The
---daemon remembers it, for every editor on that folder and across restarts.
---@param name string?
function M.set_model(name)
  local root = client.workspace_root()
  local params = { workspace = vim.uri_from_fname(root), model = name or vim.NIL }
  client.request(root, "gemini/setModel", params, function(err, result)
    if err and err.code == -32601 then
      set_model_per_turn(root, name)
      return
    end
    if err then
      M.notify_error(err)
      return
    end
    M.model = nil
    local model = type(result) == "table" and result.model
    local s = ui.sessions[root]
    if s and vim.api.nvim_buf_is_valid(s.buf) then
      show_model(s, model)
    end
    local where = vim.fs.basename(root)
    if name then
      vim.notify(("Gemini: model %s for %s"):format(tostring(model or name), where), levels.INFO)
    else
      vim.notify(("Gemini: %s uses the default model again"):format(where), levels.INFO)
    end
  end)
end

---`:GeminiChatModel [name]`: pick the workspace's model with vim.ui.select over
---`gemini/models`; `:GeminiChatModel!` forgets the choice.
---@param name? string
---@param forget? boolean
function M.pick_model(name, forget)
  if forget then
    M.set_model(nil)
    return
  end
  if name and name ~= "" then
    M.set_model(name)
    return
  end
  local root = client.workspace_root()
  client.request(root, "gemini/models", vim.empty_dict(), function(err, result)
    if err then
      M.notify_error(err)
      return
    end
    local s = ui.sessions[root]
    local current = M.model or (s and s.model) or ui.model_label or result.default
    vim.ui.select(result.models or {}, {
      prompt = "Gemini model for " .. vim.fs.basename(root),
      format_item = function(m)
        local mark = m.name == current and "● " or "  "
        return ("%s%s (%s)"):format(mark, m.displayName or m.name, m.name)
      end,
    }, function(choice)
      if choice then
        M.set_model(choice.name)
      end
    end)
  end)
end

---Model names for `:GeminiChatModel <Tab>`.
---@param lead string
---@return string[]
function M.complete_models(lead)
  local root = client.workspace_root()
  local result = client.request_sync(root, "gemini/models", vim.empty_dict(), 5000)
  local names = {}
  for _, m in ipairs(type(result) == "table" and result.models or {}) do
    if vim.startswith(m.name, lead) then
      names[#names + 1] = m.name
    end
  end
  return names
end

---The conversation as Markdown.
---@param root string
---@param turns table[]
---@return string[]
function M.markdown(root, turns)
  local out = {
    "# Gemini chat: " .. vim.fs.basename(root),
    "",
    ("_Exported %s from %s_"):format(os.date("%Y-%m-%d %H:%M"), root),
  }
  local summarised = nil ---@type integer?
  for _, turn in ipairs(turns) do
    if turn.role == "user" and blocks.compacted_turns(turn.compacted) then
      summarised = blocks.compacted_turns(turn.compacted)
    elseif turn.role == "user" then
      vim.list_extend(out, { "", "---", "", "## You", "" })
      vim.list_extend(out, vim.split(turn.text or "", "\n", { plain = true }))
      for _, a in ipairs(turn.attachments or {}) do
        out[#out + 1] = "> attached: " .. tostring(a.name or "attachment")
      end
    elseif summarised then
      out[#out + 1] = ""
      vim.list_extend(out, blocks.texts(blocks.summary(summarised, turn.text or "")))
      summarised = nil
    else
      vim.list_extend(out, { "", "## Gemini", "" })
      vim.list_extend(out, blocks.texts(blocks.model_body(turn)))
    end
  end
  out[#out + 1] = ""
  return out
end

---`:GeminiChatExport [file]`: write the conversation to a Markdown file.
---@param path? string
function M.export(path)
  local root = client.workspace_root()
  local function write(target, turns)
    target = vim.fn.fnamemodify(vim.fn.expand(target), ":p")
    local ok, err = pcall(vim.fn.writefile, M.markdown(root, turns), target)
    if not ok or err ~= 0 then
      vim.notify("Gemini: cannot write " .. target, levels.ERROR)
      return
    end
    vim.notify("Gemini: chat exported to " .. target, levels.INFO)
  end
  client.request(
    root,
    "gemini/history",
    { workspace = vim.uri_from_fname(root) },
    function(err, result)
      if err then
        M.notify_error(err)
        return
      end
      local turns = result.turns or {}
      if path and path ~= "" then
        write(path, turns)
        return
      end
      local default = ("%s/gemini-chat-%s.md"):format(root, os.date("%Y%m%d-%H%M%S"))
      vim.ui.input(
        { prompt = "Export the chat to: ", default = default, completion = "file" },
        function(input)
          if input and input ~= "" then
            write(input, turns)
          end
        end
      )
    end
  )
end

return M
