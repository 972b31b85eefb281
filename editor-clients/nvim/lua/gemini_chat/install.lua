---@mod gemini_chat.install Installing the daemon (`:GeminiChatInstall`, lazy.nvim's `build`)
---and finding it.
---
---The plugin usually lives in the gemini-chat repository (editor-clients/nvim): then the daemon
---installs from that checkout; otherwise from the package index. The way is the VS Code
---extension's: `uv tool install`, else `pipx install`, else a private virtualenv made with the
---user's Python under stdpath("data"). The server is then looked for on PATH, else where those put
---it, so an install whose bin folder is not on PATH still works.
local M = {}

M.SERVER = "gemini-chat-server"

local levels = vim.log.levels

---The gemini-chat checkout this plugin sits in, if it does.
---@return string?
function M.checkout()
  local here = debug.getinfo(1, "S").source:gsub("^@", "")
  -- lua/gemini_chat/install.lua -> the plugin folder -> editor-clients -> the repository
  local root = vim.fn.fnamemodify(here, ":p:h:h:h:h:h")
  local ok, lines = pcall(vim.fn.readfile, root .. "/pyproject.toml", "", 20)
  if ok and table.concat(lines, "\n"):find('name%s*=%s*"gemini%-chat"') then
    return root
  end
  return nil
end

---What to install: the checkout, else the package's name.
---@return string
function M.source()
  return M.checkout() or "gemini-chat"
end

---The private virtualenv, made when neither uv nor pipx is there.
---@return string
function M.venv()
  return vim.fn.stdpath("data") .. "/gemini-chat/venv"
end

---Folders the installers put commands in, besides PATH: the private venv's, uv's (its
---UV_TOOL_BIN_DIR, XDG_BIN_HOME, XDG_DATA_HOME/../bin, ~/.local/bin) and pipx's (PIPX_BIN_DIR).
---@return string[]
local function bin_dirs()
  local env = vim.env
  local dirs = { M.venv() .. "/bin", env.UV_TOOL_BIN_DIR, env.PIPX_BIN_DIR, env.XDG_BIN_HOME }
  if env.XDG_DATA_HOME then
    dirs[#dirs + 1] = vim.fs.dirname(vim.fs.normalize(env.XDG_DATA_HOME)) .. "/bin"
  end
  dirs[#dirs + 1] = (env.HOME or vim.uv.os_homedir()) .. "/.local/bin"
  return vim.tbl_filter(function(d)
    return d ~= ""
  end, dirs)
end

---uv's own answer for where its tools' commands go (a uv.toml may move them).
---@return string?
local function uv_bin_dir()
  if vim.fn.executable("uv") ~= 1 then
    return nil
  end
  local ok, res = pcall(function()
    return vim.system({ "uv", "tool", "dir", "--bin" }, { text = true }):wait(5000)
  end)
  return ok and res.code == 0 and vim.trim(res.stdout or "") or nil
end

---The daemon's path: on PATH, else (for the default name only) where an install put it.
---@param name string cmd[1]
---@return string? path, boolean on_path
function M.find(name)
  if vim.fn.executable(name) == 1 then
    return vim.fn.exepath(name), true
  end
  if name ~= M.SERVER then
    return nil, false
  end
  local dirs = bin_dirs()
  for i = 1, 2 do
    for _, dir in ipairs(dirs) do
      local path = dir .. "/" .. name
      if vim.fn.executable(path) == 1 then
        return path, false
      end
    end
    dirs = i == 1 and { uv_bin_dir() } or {} -- asked last: it runs a process
  end
  return nil, false
end

---The command line that starts the daemon: `cmd` with its program found (see find()), or nil.
---@param cmd string[]
---@return string[]?
function M.command(cmd)
  local path, on_path = M.find(cmd[1])
  if not path then
    return nil
  end
  if on_path then
    return cmd
  end
  local found = vim.deepcopy(cmd)
  found[1] = path
  return found
end

---One line: how to install the daemon, and the `cmd` option.
---@return string
function M.hint()
  local src = vim.fn.shellescape(M.source())
  local how = ":GeminiChatInstall installs it (or `uv tool install %s`, or `pipx install %s`);"
  return how:format(src, src) .. " or point `cmd` at it in require('gemini_chat').setup()"
end

---@class gemini_chat.InstallStep
---@field argv string[]
---@field why? string What went wrong when it fails, and what to do.

---The steps that install the daemon with what this machine has: uv, else pipx, else a venv.
---@return gemini_chat.InstallStep[]? steps, string? err
function M.plan()
  local src = M.source()
  -- --force: replace a gemini-chat-server another installer left in the same bin folder.
  if vim.fn.executable("uv") == 1 then
    return { { argv = { "uv", "tool", "install", "--force", src } } }
  elseif vim.fn.executable("pipx") == 1 then
    return { { argv = { "pipx", "install", "--force", src } } }
  end
  local python = vim.fn.exepath("python3")
  if python == "" then
    return nil,
      "neither uv, pipx nor python3 was found: install uv (https://docs.astral.sh/uv/), "
        .. "which brings its own Python, then run :GeminiChatInstall again"
  end
  local venv = M.venv()
  return {
    {
      argv = { python, "-c", "import sys; sys.exit(sys.version_info < (3, 11))" },
      why = python
        .. " is older than 3.11: install uv (it brings its own Python) or a newer Python",
    },
    { argv = { python, "-m", "venv", "--clear", venv } },
    { argv = { venv .. "/bin/python", "-m", "pip", "install", "--upgrade", src } },
  }
end

---Where the installers' whole output goes.
---@return string
function M.log_path()
  return vim.fn.stdpath("log") .. "/gemini-chat-install.log"
end

---@param msg string
---@param level? integer
---@param short? boolean Cut to one line that fits (progress: a longer line would stop Neovim at
---a "Press ENTER" prompt).
local function say(msg, level, short)
  msg = "Gemini: " .. msg
  vim.notify(short and require("gemini_chat.errors").one_line(msg) or msg, level or levels.INFO)
end

---Run `step`, its output appended to the log; every 2 s the newest line is told as progress.
---@param step gemini_chat.InstallStep
---@param label string "(1/2)"
---@param done fun(code: integer, last: string)
local function run_step(step, label, done)
  local log = assert(io.open(M.log_path(), "a"))
  log:write("$ " .. table.concat(step.argv, " ") .. "\n")
  local last, told = "", ""
  ---A reader of one stream: its pieces are cut anywhere, so a line is kept until it ends.
  local function reader()
    local partial = ""
    return function(_, data)
      log:write(data or "")
      partial = partial .. (data or "\n") -- nil: the stream ended
      for line in partial:gmatch("([^\n]*)\n") do
        if line:find("^%s+%S") and last ~= "" then
          last = last .. " " .. vim.trim(line) -- an indented line goes on with the one before
        elseif line:find("%S") then
          last = vim.trim(line)
        end
      end
      partial = partial:match("[^\n]*$")
    end
  end
  local timer = assert(vim.uv.new_timer())
  timer:start(2000, 2000, function()
    vim.schedule(function()
      if last ~= "" and last ~= told then
        told = last
        say(("installing the daemon %s: %s"):format(label, last), nil, true)
      end
    end)
  end)
  local ok, err = pcall(
    vim.system,
    step.argv,
    { text = true, stdout = reader(), stderr = reader() },
    function(res)
      vim.schedule(function()
        timer:stop()
        timer:close()
        log:close()
        done(res.code, last)
      end)
    end
  )
  if not ok then
    timer:stop()
    timer:close()
    log:close()
    done(-1, tostring(err))
  end
end

---After the steps: find the server and say which one it is.
local function report_installed()
  local path, on_path = M.find(M.SERVER)
  if not path then
    say(
      "the install finished but gemini-chat-server was not found: see " .. M.log_path(),
      levels.ERROR
    )
    return false
  end
  local res = vim.system({ path, "--version" }, { text = true }):wait(15000)
  local version = vim.trim(res.stdout or "")
  local where = on_path and path or (path .. ", not on PATH: the plugin finds it there")
  local running = require("gemini_chat.client").get() and "; restart Neovim to use it" or ""
  say(("installed %s (%s)%s"):format(version, where, running))
  return true
end

---@class gemini_chat.InstallJob
---@field done boolean
---@field ok? boolean

---Install the daemon. `:GeminiChatInstall` and lazy.nvim's `build` run this.
---@return gemini_chat.InstallJob
function M.run()
  local job = { done = false } ---@type gemini_chat.InstallJob
  local steps, err = M.plan()
  if not steps then
    say("cannot install the daemon: " .. err, levels.ERROR)
    job.done, job.ok = true, false
    return job
  end
  vim.fn.mkdir(vim.fs.dirname(M.log_path()), "p")
  local i = 0
  local function next_step()
    i = i + 1
    local step = steps[i]
    if not step then
      job.ok = report_installed()
      job.done = true
      return
    end
    local label = ("(%d/%d)"):format(i, #steps)
    say(("installing the daemon %s: %s…"):format(label, table.concat(step.argv, " ")))
    run_step(step, label, function(code, last)
      if code == 0 then
        return next_step()
      end
      local why = step.why
        or ("`%s` failed (exit %d): %s"):format(step.argv[1], code, last ~= "" and last or "?")
      say(
        ("installing the daemon failed: %s. Full output: %s"):format(why, M.log_path()),
        levels.ERROR
      )
      job.done, job.ok = true, false
    end)
  end
  next_step()
  return job
end

---`:GeminiChatInstall`: install, and without a UI (a headless `Lazy! sync`, a script) wait for
---the end, so Neovim does not quit halfway.
function M.command_install()
  local job = M.run()
  if #vim.api.nvim_list_uis() == 0 then
    vim.wait(15 * 60 * 1000, function()
      return job.done
    end, 50)
  end
end

return M
