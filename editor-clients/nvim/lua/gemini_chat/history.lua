---@mod gemini_chat.history The transcript from the store: loaded on open, reloaded when told.
---
---The daemon's store is the one source of truth: every change to the folder's conversation
---(a turn from any editor, reset, open, model) reloads `gemini/history`, also while the chat
---window is closed, so the buffer is current whenever it is shown.
local client = require("gemini_chat.client")
local errors = require("gemini_chat.errors")
local input = require("gemini_chat.input")
local transcript = require("gemini_chat.transcript")
local window = require("gemini_chat.window")

local M = {}

---Run after every load (chat.lua: reload again if a change came meanwhile, else send the next
---queued question).
---@type fun(s: gemini_chat.Session)?
M.after_load = nil

---Fill (or refill) the buffer from `gemini/history`, then run `after(ok)`.
---@param s gemini_chat.Session
---@param after? fun(ok: boolean)
function M.load(s, after)
  s.waiting = s.waiting or {}
  table.insert(s.waiting, after)
  if s.loading then
    return -- one request serves every caller
  end
  local first = not s.loaded
  if first then
    window.set_status(s, "starting…")
  end
  s.loading, s.stale = true, false
  client.request(s.root, "gemini/history", { workspace = s.uri }, function(err, result)
    if not s.loading then
      return -- the daemon exited meanwhile and the waiters were told
    end
    s.loading = false
    if first then
      window.set_status(s, "")
    end
    local waiting = s.waiting
    s.waiting = {}
    if err then
      errors.notify(err)
    else
      window.set_model(s, result.model)
      transcript.render_history(s, result)
      if first then
        input.focus(s)
      end
    end
    for _, fn in ipairs(waiting) do
      fn(err == nil)
    end
    if not err and M.after_load then
      M.after_load(s)
    end
  end)
end

---Finish the loads the exited daemon will never answer.
---@param s gemini_chat.Session
function M.abandon(s)
  local waiting = s.loading and s.waiting or {}
  s.loading, s.waiting = false, {}
  for _, fn in ipairs(waiting) do
    fn(false)
  end
end

return M
