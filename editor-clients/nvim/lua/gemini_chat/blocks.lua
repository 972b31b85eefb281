---@mod gemini_chat.blocks The lines of a model turn beyond plain text: thoughts, tools, images.
---
---Pure functions from turn data to buffer lines, shared by the live reply, the history and the
---Markdown export, so a reply looks the same while it streams, after a reload and on disk:
---
---  — 2 earlier exchanges summarised to fit the context window —
---  > [!thought]- Thoughts        <- folded: a Markdown callout, "-" marks it collapsed
---  > the thought summary
---  🔧 read src/app.py            <- one dim line per tool call
---
---  the answer
---
---  ![image](/data/images/1.png)
local M = {}

---@class gemini_chat.Item
---@field [1] string The line's text (no newline).
---@field [2]? string Its kind, which picks the highlight (see render.lua).
---@field fold_start? boolean The first line of a folded block.
---@field fold_end? boolean The last line of a folded block.
---@field other? boolean A `## You` header of a question sent from another editor.

---Split text into buffer lines (a buffer line holds no newline).
---@param text string
---@return string[]
function M.split(text)
  return vim.split((text:gsub("\r\n?", "\n")), "\n", { plain = true })
end

---Prefix a line of a callout body.
---@param line string
---@return string
function M.quote(line)
  return line == "" and ">" or "> " .. line
end

---A folded callout: a header line and the text as quoted lines.
---@param kind string Callout type, e.g. "thought".
---@param title string
---@param text string
---@param line_kind string Kind of the body lines.
---@return gemini_chat.Item[]
function M.callout(kind, title, text, line_kind)
  local items = { { ("> [!%s]- %s"):format(kind, title), line_kind .. "_head", fold_start = true } }
  for _, line in ipairs(M.split(vim.trim(text))) do
    items[#items + 1] = { M.quote(line), line_kind }
  end
  items[#items].fold_end = true
  return items
end

---The thought summary as a folded callout.
---@param text string
---@return gemini_chat.Item[]
function M.thoughts(text)
  return M.callout("thought", "Thoughts", text, "thought")
end

---The header of a thought block while it streams, and once it is complete.
M.THINKING = "> [!thought]- Thinking…"
M.THOUGHTS = "> [!thought]- Thoughts"

---"N earlier exchange(s) summarised" with the right plural.
---@param n integer
---@return string
local function exchanges(n)
  return ("%d earlier exchange%s"):format(n, n == 1 and "" or "s")
end

---The line saying that older exchanges were summarised.
---@param n integer
---@return gemini_chat.Item
function M.compacted(n)
  return { ("— %s summarised to fit the context window —"):format(exchanges(n)), "compacted" }
end

---The summary that replaced older exchanges, folded under its compaction line.
---@param n integer
---@param text string
---@return gemini_chat.Item[]
function M.summary(n, text)
  local items = { M.compacted(n) }
  local title = ("Summary of %s"):format(exchanges(n))
  return vim.list_extend(items, M.callout("summary", title, text, "summary"))
end

---One dim line for a tool call.
---@param call {name?: string, summary?: string}
---@return gemini_chat.Item
function M.tool(call)
  local what = call.summary or call.name or "tool"
  -- A summary is one line; keep it so even if a tool's summary is not.
  return { "🔧 " .. (tostring(what):gsub("[\r\n]+", " ")), "tool" }
end

---A line for an image saved by the daemon.
---@param image {path?: string, mimeType?: string}
---@return gemini_chat.Item
function M.image(image)
  local path = tostring(image.path or "")
  -- Angle brackets keep a path with spaces or parentheses one Markdown link target.
  local target = path:find("[%s()]") and ("<%s>"):format(path) or path
  return { ("![image](%s)"):format(target), "image" }
end

---@class gemini_chat.ModelTurn
---@field text? string
---@field thoughts? string
---@field toolCalls? {name?: string, summary?: string}[]
---@field images? {mimeType?: string, path?: string}[]
---@field compacted? integer|{turns: integer}
---@field json? {valid?: boolean, errors?: string[]} A JSON-mode reply's check.
---@field filtered? string[] Why Imagen dropped pictures.

---@param value any
---@return integer?
local function count(value)
  if type(value) == "table" then
    value = value.turns
  end
  local n = tonumber(value)
  return n and n > 0 and math.floor(n) or nil
end

---The number of summarised exchanges from a `compacted` field, or nil.
M.compacted_turns = count

---@param list any
---@return table[]
local function list_of(list)
  return type(list) == "table" and vim.islist(list) and list or {}
end

---The body of a model turn (the lines under "## Gemini"): meta lines first (compaction,
---thoughts, tool calls), then the text, then images.
---@param turn gemini_chat.ModelTurn
---@return gemini_chat.Item[]
function M.model_body(turn)
  local items = {} ---@type gemini_chat.Item[]
  local n = count(turn.compacted)
  if n then
    items[#items + 1] = M.compacted(n)
  end
  if type(turn.thoughts) == "string" and vim.trim(turn.thoughts) ~= "" then
    vim.list_extend(items, M.thoughts(turn.thoughts))
  end
  for _, call in ipairs(list_of(turn.toolCalls)) do
    items[#items + 1] = M.tool(call)
  end
  local text = (type(turn.text) == "string" and turn.text or ""):gsub("[\r\n]+$", "")
  local body = {} ---@type gemini_chat.Item[]
  if type(turn.json) == "table" then
    body = require("gemini_chat.structured").body(turn, M.split)
  elseif text ~= "" then
    for _, line in ipairs(M.split(text)) do
      body[#body + 1] = { line }
    end
  end
  if #body > 0 and #items > 0 then
    items[#items + 1] = { "" }
  end
  vim.list_extend(items, body)
  local images = list_of(turn.images)
  for i, image in ipairs(images) do
    if i == 1 and #items > 0 then
      items[#items + 1] = { "" }
    end
    items[#items + 1] = M.image(image)
  end
  vim.list_extend(items, require("gemini_chat.imagen").filtered(turn.filtered))
  if #items == 0 then
    items[1] = { "" }
  end
  return items
end

---The dim usage line under a reply (tokens or images, model, cost), or nil without usage.
M.usage = require("gemini_chat.usage").line

---The lines of a user message: its text, then its attachments.
---@param text string
---@param labels string[]?
---@return gemini_chat.Item[]
function M.you(text, labels)
  local items = {} ---@type gemini_chat.Item[]
  for _, line in ipairs(M.split(text)) do
    items[#items + 1] = { line }
  end
  for _, label in ipairs(labels or {}) do
    items[#items + 1] = { "> attached: " .. label, "attachment" }
  end
  return items
end

local END = { { "" }, { "---", "rule" }, { "" } }

---The `## You` header of an exchange; `other`: it came from another editor.
---@param other? boolean
---@return gemini_chat.Item
function M.you_header(other)
  return { "## You", "you", other = other or nil }
end

---The attachment labels of a history user turn.
---@param turn table
---@return string[]
local function labels_of(turn)
  local labels = {}
  for _, a in ipairs(list_of(turn.attachments)) do
    labels[#labels + 1] = a.name or a.uri or "attachment"
  end
  return labels
end

---The dim line saying which secrets the daemon masked before sending, or nil.
---@param list any `redacted: [{kind, where}]`
---@return gemini_chat.Item?
function M.redacted(list)
  list = list_of(list)
  if #list == 0 then
    return nil
  end
  local what = {}
  for _, r in ipairs(list) do
    what[#what + 1] = ("%s in %s"):format(tostring(r.kind), tostring(r.where))
  end
  local n = #list == 1 and "1 secret" or ("%d secrets"):format(#list)
  return { ("🔒 %s masked before sending (%s)"):format(n, table.concat(what, ", ")), "redacted" }
end

---A turn that a dead editor left half done (`gemini/history`'s `interrupted`): the question,
---the reply so far (or that none, or no images, had arrived), and `hint` (how to send it again).
---@param turn table
---@param hint string
---@return gemini_chat.Item[]
function M.interrupted(turn, hint)
  local items = { M.you_header() }
  vim.list_extend(
    items,
    M.you(type(turn.message) == "string" and turn.message or "", labels_of(turn))
  )
  local imagen = require("gemini_chat.imagen")
  local asked = imagen.asked(turn)
  items[#items + 1] = asked and imagen.note(asked) -- as under a stored image request
  vim.list_extend(items, { { "" }, { "## Gemini", "gemini" } })
  local body = M.model_body({ text = turn.text, thoughts = turn.thoughts })
  if #body == 1 and body[1][1] == "" then
    -- An image request streams no reply: what it waited for was its images.
    body = { { asked and "(no images had arrived)" or "(no reply had arrived)", "hint" } }
  end
  vim.list_extend(items, body)
  vim.list_extend(items, { { "" }, { "⚠ Interrupted: " .. hint, "stopped" } })
  return vim.list_extend(items, vim.deepcopy(END))
end

---A finished model turn: header, body, usage, separator.
---@param turn table A `gemini/history` model turn or a `gemini/chat` result.
---@return gemini_chat.Item[]
function M.gemini(turn)
  local items = { { "" }, { "## Gemini", "gemini" } } ---@type gemini_chat.Item[]
  vim.list_extend(items, M.model_body(turn))
  local u = M.usage(turn.usage, turn.model)
  if u then
    vim.list_extend(items, { { "" }, { u, "usage" } })
  end
  return vim.list_extend(items, vim.deepcopy(END))
end

---The transcript of `gemini/history` turns. A compaction summary (a user turn marked
---`compacted` and the model turn after it) shows as one line and a folded summary.
---@param turns table[]
---@param foreign? table<string, boolean> Questions (their text) sent from another editor.
---@return gemini_chat.Item[]
function M.history(turns, foreign)
  local items = {} ---@type gemini_chat.Item[]
  local summarised = nil ---@type integer?
  for _, turn in ipairs(turns) do
    if turn.role == "user" and count(turn.compacted) then
      summarised = count(turn.compacted)
    elseif turn.role == "user" then
      local text = type(turn.text) == "string" and turn.text or ""
      items[#items + 1] = M.you_header(foreign and foreign[text])
      vim.list_extend(items, M.you(text, labels_of(turn)))
      if type(turn.imagen) == "table" then
        items[#items + 1] = require("gemini_chat.imagen").note(turn.imagen)
      end
    elseif summarised then
      vim.list_extend(items, M.summary(summarised, turn.text or ""))
      vim.list_extend(items, vim.deepcopy(END))
      summarised = nil
    else
      vim.list_extend(items, M.gemini(turn))
    end
  end
  return items
end

---The text of items, for the Markdown export.
---@param items gemini_chat.Item[]
---@return string[]
function M.texts(items)
  local out = {}
  for i, item in ipairs(items) do
    out[i] = item[1]
  end
  return out
end

return M
