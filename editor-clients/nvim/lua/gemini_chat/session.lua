---@mod gemini_chat.session The state of each workspace's chat, in one place.
---
---One session per workspace folder: its buffer, the reply in progress, what waits for the next
---message. Only this module holds the table of sessions; the others get a session and read or
---change its fields.
local M = {}

---@class gemini_chat.Reply The reply that is streaming in.
---@field mark integer Extmark on the "## Gemini" header.
---@field lines integer Lines under the header shown so far.
---@field started boolean Something arrived (the "waiting" line is gone).
---@field segment? "text"|"thought"|"meta" What the last line belongs to.
---@field thought_row? integer Offset of the streaming thought block's header under the header.
---@field compacted? integer Exchanges summarised before this turn (said once).

---@class gemini_chat.Session
---@field root string Workspace folder.
---@field uri string
---@field buf integer
---@field input_mark integer Extmark on the input area's header.
---@field reply? gemini_chat.Reply
---@field pending table[] Attachments waiting for the next message.
---@field pending_labels string[]
---@field status string Shown in the winbar.
---@field loaded boolean History was rendered.
---@field loading? boolean History was asked for and has not come yet.
---@field waiting? fun(ok: boolean)[] Callers waiting for the history.
---@field request? gemini_chat.Request The reply in progress.
---@field model? string The model the next turn uses (from the daemon), for the winbar.

---Sessions by workspace folder.
---@type table<string, gemini_chat.Session>
M.sessions = {}

---The session of `root`, if its buffer still exists.
---@param root string
---@return gemini_chat.Session?
function M.get(root)
  local s = M.sessions[root]
  if s and vim.api.nvim_buf_is_valid(s.buf) then
    return s
  end
  return nil
end

---A new session for `root` shown in `buf`; it replaces one whose buffer was wiped.
---@param root string
---@param buf integer
---@return gemini_chat.Session
function M.new(root, buf)
  ---@type gemini_chat.Session
  local s = {
    root = root,
    uri = vim.uri_from_fname(root),
    buf = buf,
    input_mark = 0,
    pending = {},
    pending_labels = {},
    status = "",
    loaded = false,
  }
  M.sessions[root] = s
  return s
end

---Every session whose buffer still exists.
---@return gemini_chat.Session[]
function M.all()
  local out = {}
  for root in pairs(M.sessions) do
    out[#out + 1] = M.get(root)
  end
  return out
end

return M
