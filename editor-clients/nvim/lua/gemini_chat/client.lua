---@mod gemini_chat.client The daemon: one LSP client per Neovim, requests, streaming, cancel.
local config = require("gemini_chat.config")
local spawn = require("gemini_chat.spawn")

local M = {}

M.name = "gemini_chat"

---Called (on the main loop) when the daemon has exited.
---@type fun()[]
M.exit_hooks = {}

local has_011 = vim.fn.has("nvim-0.11") == 1

---@class gemini_chat.Request
---@field id? integer JSON-RPC id, once sent.
---@field cancelled boolean Set by cancel(); the answer (if any) is then ignored.
---@field done boolean
---@field work_token string
---@field partial_token string
---@field work_open boolean A work-done `begin` arrived without its `end`.

local state = {
  client_id = nil, ---@type integer?
  folders = {}, ---@type table<string, boolean> workspace URIs the daemon knows
  partial = {}, ---@type table<string, fun(value: table)>
  work = {}, ---@type table<string, fun(value: table)>
  seq = 0,
  stopping = false,
  program = nil, ---@type string? the daemon's program as started (the LSP log names it so)
}

---Call a client method the 0.11 way (`client:m()`) or the 0.10 way (`client.m()`).
---@param client vim.lsp.Client
---@param method string
local function call(client, method, ...)
  if has_011 then
    return client[method](client, ...)
  end
  return client[method](...)
end

---Route `$/progress`: partial results of our chat requests to their stream, the rest to Neovim.
---@param err any
---@param result {token: string|integer, value: any}
---@param ctx table
---@param cfg? table
local function on_progress(err, result, ctx, cfg)
  local token = result and result.token
  local value = result and result.value
  if type(value) == "table" and value.kind == nil and state.partial[token] then
    state.partial[token](value)
    return
  end
  if type(value) == "table" and value.kind ~= nil and state.work[token] then
    state.work[token](value)
  end
  if type(value) == "table" and value.kind ~= nil then
    -- Neovim's own handler fires LspProgress, which fidget.nvim and statuslines listen to.
    return vim.lsp.handlers["$/progress"](err, result, ctx, cfg)
  end
end

---Handlers of the daemon's own notifications, by method (see live.lua).
---@type table<string, fun(params: table)>
M.listeners = {}

---An LSP handler passing a daemon notification to its listener.
---@param method string
---@return fun(err: any, params: any)
local function listen(method)
  return function(_, params)
    local fn = M.listeners[method]
    if fn and type(params) == "table" then
      fn(params)
    end
  end
end

---Find a marker above `dir`; its folder is the workspace, else `dir` itself.
---@param dir? string
---@return string
function M.workspace_root(dir)
  dir = vim.fs.normalize(dir or vim.fn.getcwd())
  local found = vim.fs.find(config.options.root_markers, { path = dir, upward = true })[1]
  local root = found and vim.fs.dirname(found) or dir
  return vim.fn.fnamemodify(root, ":p"):gsub("/$", "")
end

---@param root string
---@return lsp.WorkspaceFolder
local function folder(root)
  return { uri = vim.uri_from_fname(root), name = vim.fs.basename(root) }
end

---@return vim.lsp.Client?
function M.get()
  if not state.client_id then
    return nil
  end
  local client = vim.lsp.get_client_by_id(state.client_id)
  return client
end

---The daemon's last stderr line, which Neovim keeps in its LSP log.
---@param name string
---@return string?
local function last_stderr(name)
  local ok, lines = pcall(vim.fn.readfile, vim.lsp.get_log_path(), "", -200)
  if not ok then
    return nil
  end
  local needle = ('"rpc"\t"%s"\t"stderr"\t"'):format(name)
  for i = #lines, 1, -1 do
    local at = lines[i]:find(needle, 1, true)
    if at then
      local text = lines[i]:sub(at + #needle):gsub('"$', ""):gsub("\\n", " ")
      text = vim.trim(text)
      if text ~= "" then
        return text
      end
    end
  end
  return nil
end

---Say why the daemon stopped when it was not asked to.
---@param code integer
---@param signal integer
local function on_exit(code, signal, _)
  vim.schedule(function()
    state.client_id = nil
    state.folders = {}
    -- A dead daemon streams nothing more: its requests' stream handlers would stay for good.
    state.partial, state.work = {}, {}
    -- Neovim never answers the requests of a dead client: let their owners finish them.
    for _, hook in ipairs(M.exit_hooks) do
      hook()
    end
    if state.stopping or (code == 0 and signal == 0) then
      return
    end
    local name = state.program or config.options.cmd[1]
    -- Give Neovim a moment to log the daemon's last words: they say why it stopped.
    vim.defer_fn(function()
      local msg = ("gemini_chat: the daemon '%s' exited (code %d, signal %d)"):format(
        name,
        code,
        signal
      )
      local why = last_stderr(name)
      if why then
        msg = msg .. ": " .. why
      end
      vim.notify(msg .. "\nSee :LspLog and :checkhealth gemini_chat", vim.log.levels.ERROR)
    end, 200)
  end)
end

---@param root string
---@return table? lsp_config, string? err
local function build_config(root)
  local install = require("gemini_chat.install")
  local cmd = install.command(config.options.cmd)
  if not cmd then
    local why = ("cannot start the daemon: '%s' was not found on PATH. "):format(
      config.options.cmd[1]
    )
    return nil, why .. install.hint()
  end
  return {
    name = M.name,
    cmd = cmd,
    root_dir = root,
    workspace_folders = { folder(root) },
    init_options = config.daemon_settings(),
    handlers = {
      ["$/progress"] = on_progress,
      ["gemini/conversationChanged"] = listen("gemini/conversationChanged"),
      ["gemini/turnProgress"] = listen("gemini/turnProgress"),
    },
    on_exit = on_exit,
  }
end

---Tell a running daemon about another workspace folder.
---@param client vim.lsp.Client
---@param root string
local function add_folder(client, root)
  local f = folder(root)
  if state.folders[f.uri] then
    return
  end
  state.folders[f.uri] = true
  call(client, "notify", "workspace/didChangeWorkspaceFolders", {
    event = { added = { f }, removed = {} },
  })
end

---Start the daemon if needed and make sure it knows `root`.
---@param root string
---@return vim.lsp.Client? client, string? err
function M.ensure(root)
  local client = M.get()
  if client then
    add_folder(client, root)
    return client
  end
  local lsp_config, err = build_config(root)
  if not lsp_config then
    return nil, err
  end
  state.stopping = false
  local id, spawn_err = spawn.start(lsp_config)
  if not id then
    return nil, spawn_err
  end
  state.client_id, state.program = id, lsp_config.cmd[1]
  state.folders = { [folder(root).uri] = true }
  return vim.lsp.get_client_by_id(id)
end

---Send a request; `cb(err, result)` runs on the main loop.
---@param root string
---@param method string
---@param params table
---@param cb fun(err: table?, result: any)
---@return integer? request_id
function M.request(root, method, params, cb)
  local client, err = M.ensure(root)
  if not client then
    -- Answer later, like a real response, so callers can finish their bookkeeping first.
    vim.schedule(function()
      cb({ code = -1, message = err }, nil)
    end)
    return nil
  end
  local ok, id = call(client, "request", method, params, function(e, result)
    vim.schedule(function()
      cb(e, result)
    end)
  end)
  if not ok then
    vim.schedule(function()
      cb({ code = -1, message = "the daemon is not running; see :LspLog" }, nil)
    end)
    return nil
  end
  return id
end

---Send a notification to the daemon (started if needed).
---@param root string
---@param method string
---@param params table
---@return boolean sent
function M.notify(root, method, params)
  local client = M.ensure(root)
  return client ~= nil and call(client, "notify", method, params) ~= false
end

---Synchronous request, for :checkhealth.
---@param root string
---@param method string
---@param params table
---@param timeout_ms integer
---@return any result, string? err
function M.request_sync(root, method, params, timeout_ms)
  local client, err = M.ensure(root)
  if not client then
    return nil, err
  end
  local res, why = call(client, "request_sync", method, params, timeout_ms)
  if not res then
    return nil, why or "no answer"
  end
  if res.err then
    return nil, res.err.message
  end
  return res.result, nil
end

---@class gemini_chat.ChatHandlers
---@field on_part fun(value: table) A partial result: {text}, {thought}, {tool}, {image}, ...
---@field on_progress fun(value: table)
---@field on_done fun(err: table?, result: table?)

---Send `gemini/chat` (or `method`, a turn that streams the same way: `gemini/generateImage`)
---with streaming and work-done progress.
---@param root string
---@param params table
---@param handlers gemini_chat.ChatHandlers
---@param method? string
---@return gemini_chat.Request
function M.chat(root, params, handlers, method)
  state.seq = state.seq + 1
  ---@type gemini_chat.Request
  local req = {
    cancelled = false,
    done = false,
    work_open = false,
    work_token = ("gemini-chat-work-%d"):format(state.seq),
    partial_token = ("gemini-chat-part-%d"):format(state.seq),
  }
  state.partial[req.partial_token] = function(value)
    if not req.cancelled then
      handlers.on_part(value)
    end
  end
  state.work[req.work_token] = function(value)
    req.work_open = value.kind ~= "end"
    handlers.on_progress(value)
  end
  params = vim.tbl_extend(
    "force",
    params,
    { workDoneToken = req.work_token, partialResultToken = req.partial_token }
  )
  req.id = M.request(root, method or "gemini/chat", params, function(err, result)
    state.partial[req.partial_token] = nil
    state.work[req.work_token] = nil
    if req.cancelled or req.done then
      return
    end
    req.done = true
    handlers.on_done(err, result)
  end)
  return req
end

---Cancel a chat request. Neovim drops the RequestCancelled answer, so this finishes it here.
---@param req gemini_chat.Request
function M.cancel(req)
  if req.done or req.cancelled then
    return
  end
  req.cancelled = true
  state.partial[req.partial_token] = nil
  state.work[req.work_token] = nil
  local client = M.get()
  if client and req.id then
    call(client, "cancel_request", req.id)
  end
  if client and req.work_open then
    -- The daemon's `end` may never come after a cancel: close the spinner ourselves.
    vim.lsp.handlers["$/progress"](nil, {
      token = req.work_token,
      value = { kind = "end", message = "stopped" },
    }, { client_id = client.id, method = "$/progress" })
  end
end

---Stop the daemon; an exit asked for is not reported as a failure.
function M.stop()
  local client = M.get()
  if client then
    state.stopping = true
    call(client, "stop")
  end
end

return M
