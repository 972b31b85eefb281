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

---@class gemini_chat.Pending An attachment waiting for the next message.
---@field attachment table What goes to the daemon (`gemini/chat`'s attachments item).
---@field label string The name the transcript and the history show (`src/a.py:3-9`).
---@field detail? string Shown after the label in the list above the input area (size, kind).
---@field buf? integer The buffer whose text the daemon reads (synced before sending).

---@class gemini_chat.Queued A turn waiting for the reply in progress to end.
---@field message string The question, or an Imagen request's prompt.
---@field pending gemini_chat.Pending[]
---@field json? table `gemini/chat`'s `json` (JSON mode), read when the message was sent.
---@field imagen? gemini_chat.Imagen An Imagen request (`gemini/generateImage`).

---@class gemini_chat.Mirror Another editor's turn, streaming into this buffer.
---@field first integer Extmark on its "## You" header.
---@field header integer Extmark on its "## Gemini" header.
---@field lines integer Lines of its reply shown so far.
---@field waiting gemini_chat.Item Its reply's line until something comes (replying or drawing).
---@field drawing boolean An image request (Imagen draws; no reply streams).

---@class gemini_chat.Session
---@field root string Workspace folder.
---@field uri string
---@field buf integer
---@field input_mark integer Extmark on the input area's header.
---@field reply? gemini_chat.Reply
---@field pending gemini_chat.Pending[] Attachments waiting for the next message.
---@field queue gemini_chat.Queued[] Questions sent while a reply was still coming.
---@field mirror? gemini_chat.Mirror Another editor's turn in progress.
---@field own_mark? integer Extmark on the "## You" header of our own turn in progress.
---@field seen_turn? integer The turn number the buffer shows last (from the daemon).
---@field conversation? string The id of the conversation shown, when the daemon said it.
---@field stale? boolean A change arrived while busy: reload the history when idle.
---@field foreign table<string, boolean> Questions (their text) sent from another editor.
---@field interrupted? table `gemini/history`'s interrupted turn, shown above the input area.
---@field interrupted_mark? integer Extmark on the interrupted turn's first row.
---@field interrupted_rows? integer Its number of rows.
---@field status string Shown in the winbar.
---@field loaded boolean History was rendered.
---@field loading? boolean History was asked for and has not come yet.
---@field waiting? fun(ok: boolean)[] Callers waiting for the history.
---@field request? gemini_chat.Request The reply in progress.
---@field model? string The model the next turn uses (from the daemon), for the winbar.
---@field json_mode? gemini_chat.JsonMode JSON mode is on for the next messages.
---@field cost? number The conversation's cost so far (USD), from the newest priced reply.

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
    queue = {},
    foreign = {},
    status = "",
    loaded = false,
  }
  M.sessions[root] = s
  return s
end

---The session of the workspace folder `uri`, if its buffer still exists.
---@param uri string
---@return gemini_chat.Session?
function M.by_uri(uri)
  for root, s in pairs(M.sessions) do
    if s.uri == uri then
      return M.get(root)
    end
  end
  return nil
end

---Whether a reply (ours or another editor's) or a history load is still under way: a new
---question waits in the queue until it is not.
---@param s gemini_chat.Session
---@return boolean
function M.busy(s)
  return s.request ~= nil or s.mirror ~= nil or s.loading == true
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
