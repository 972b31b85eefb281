---@mod gemini_chat.live The other editors on the folder: their turns and changes, as they happen.
---
---`gemini/turnProgress` streams another editor's turn into the chat buffer (mirror.lua);
---`gemini/conversationChanged` reloads the history, at once when nothing is under way, else as
---soon as the reply in progress ends. Both apply whether the chat window is shown or not.
local chat = require("gemini_chat.chat")
local client = require("gemini_chat.client")
local mirror = require("gemini_chat.mirror")
local session = require("gemini_chat.session")

local M = {}

-- Changes after which the exchanges on screen are others than before.
local new_conversation = { reset = true, open = true, deleted = true, compacted = true }

---The session shown for a notification's folder, once its history is in. While it loads,
---the change may have come too late for that load: it loads again after.
---@param params table
---@return gemini_chat.Session?
local function session_of(params)
  local s = type(params.workspace) == "string" and session.by_uri(params.workspace) or nil
  if s and s.loading and not s.loaded then
    s.stale = true
  end
  return s and s.loaded and s or nil
end

---`gemini/conversationChanged`: reload, unless the buffer already shows this turn.
---@param p {workspace: string, conversation?: string, reason: string, turn?: integer}
function M.changed(p)
  local s = session_of(p)
  if not s or p.reason == "renamed" then
    return -- a title is not shown in the buffer
  end
  local conversation = p.conversation ~= vim.NIL and p.conversation or nil
  local shown = p.reason == "turn"
    and p.turn == s.seen_turn
    and (s.conversation == nil or conversation == nil or conversation == s.conversation)
  s.seen_turn = p.turn
  s.conversation = not (p.reason == "reset" or p.reason == "deleted") and conversation or nil
  if shown then
    return -- our own turn, already drawn from its answer
  end
  if new_conversation[p.reason] then
    s.foreign = {}
  end
  s.stale = true
  chat.settle(s)
end

---`gemini/turnProgress`: another editor's turn started, streams, ends.
---@param p {workspace: string, state: string, message?: string, interrupted?: boolean}
function M.progress(p)
  local s = session_of(p)
  if not s then
    return
  end
  if p.state == "started" or (p.state == "streaming" and not s.mirror) then
    mirror.start(s, p)
  elseif p.state == "streaming" then
    mirror.update(s, p)
  elseif p.state == "finished" then
    mirror.finish(s, p)
    chat.settle(s)
  else -- failed or cancelled: nothing was stored
    mirror.remove(s)
    -- A dead editor left its turn half done: the history now shows it as interrupted.
    s.stale = s.stale or p.interrupted == true
    chat.settle(s)
  end
end

client.listeners["gemini/conversationChanged"] = M.changed
client.listeners["gemini/turnProgress"] = M.progress

return M
