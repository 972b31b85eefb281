---@mod gemini_chat.structured JSON mode: replies as JSON, shaped by a schema file, checked.
---
---`:GeminiChatJson [schema-file]` turns JSON mode on for the chat's next messages (`!` turns it
---off); `:GeminiChat! {message}` sends one message that way. The daemon sends the schema and
---checks the reply against it (`json: {valid, errors}`); the reply shows pretty-printed in a
---```json block, followed by whether it is valid and each mismatch:
---
---  ```json
---  {
---    "name": "Ada",
---    "age": "36"
---  }
---  ```
---  ✗ JSON reply: 1 problem
---    • $.age: '36' is not of type 'integer'
local jsontext = require("gemini_chat.jsontext")

local M = {}

local levels = vim.log.levels

---@class gemini_chat.JsonMode JSON mode of a chat.
---@field schema? string The schema file (absolute), read again for each message.

---Schema keywords holding one subschema / a list of them / a map of them.
local ONE = { "items", "additionalProperties", "contains", "not", "if", "then", "else" }
local LIST = { "anyOf", "oneOf", "allOf", "prefixItems" }
local MAP = { "properties", "$defs", "definitions" }

---Give every object schema of `schema` a `propertyOrdering` in the order its file wrote the
---properties (the daemon would otherwise take Lua's order, which is none), unless it has one.
---@param schema any
---@param order table<table, string[]>
local function add_ordering(schema, order)
  if type(schema) ~= "table" then
    return
  end
  local props = schema.properties
  if type(props) == "table" and order[props] and schema.propertyOrdering == nil then
    schema.propertyOrdering = #order[props] > 0 and order[props] or nil
  end
  for _, key in ipairs(ONE) do
    add_ordering(schema[key], order)
  end
  for _, key in ipairs(LIST) do
    for _, sub in ipairs(type(schema[key]) == "table" and schema[key] or {}) do
      add_ordering(sub, order)
    end
  end
  for _, key in ipairs(MAP) do
    for _, sub in pairs(type(schema[key]) == "table" and schema[key] or {}) do
      add_ordering(sub, order)
    end
  end
end

---The schema in `path`, or nil and why not.
---@param path string
---@return table? schema, string? err
function M.read_schema(path)
  local ok, lines = pcall(vim.fn.readfile, path)
  if not ok then
    return nil, ("cannot read the schema %s"):format(vim.fn.fnamemodify(path, ":~:."))
  end
  local schema, order, err = jsontext.decode(table.concat(lines, "\n"))
  if err or type(schema) ~= "table" then
    local why = err and ("not JSON (%s)"):format(err) or "not a JSON object"
    return nil, ("the schema %s is %s"):format(vim.fn.fnamemodify(path, ":~:."), why)
  end
  add_ordering(schema, order)
  return schema, nil
end

---`gemini/chat`'s `json` for a message of `s` (`once`: this one message as JSON), nil when the
---message is not in JSON mode, or an error (the schema file cannot be read).
---@param s gemini_chat.Session
---@param once? boolean
---@return table? json, string? err
function M.request(s, once)
  local mode = s.json_mode
  if not mode and not once then
    return nil, nil
  end
  if not (mode and mode.schema) then
    return vim.empty_dict(), nil -- JSON without a schema: any JSON is valid
  end
  local schema, err = M.read_schema(mode.schema)
  if not schema then
    return nil, err
  end
  return { schema = schema }, nil
end

---What the winbar shows while JSON mode is on ("" when off).
---@param s gemini_chat.Session
---@return string
function M.label(s)
  if not s.json_mode then
    return ""
  end
  local schema = s.json_mode.schema
  return "{ } JSON" .. (schema and (": " .. vim.fs.basename(schema)) or "")
end

---`:GeminiChatJson [schema-file]` / `:GeminiChatJson!`: JSON mode on (with the schema) / off.
---@param path string
---@param off boolean
function M.command(path, off)
  local chat = require("gemini_chat.chat")
  local s = chat.current()
  if off then
    s.json_mode = nil
    vim.notify("Gemini: JSON mode off", levels.INFO)
  else
    local full = path ~= "" and vim.fs.normalize(vim.fn.fnamemodify(vim.fn.expand(path), ":p"))
    if full then
      local _, err = M.read_schema(full)
      if err then
        vim.notify("Gemini: " .. err .. "; JSON mode unchanged", levels.ERROR)
        return
      end
    end
    s.json_mode = { schema = full or nil }
    local what = full and ("shaped by " .. vim.fn.fnamemodify(full, ":~:.")) or "without a schema"
    vim.notify(("Gemini: JSON mode on, replies %s (:GeminiChatJson! ends it)"):format(what))
  end
  require("gemini_chat.window").refresh_winbar(s)
end

---`:GeminiChatJson <Tab>`: the workspace's `*.schema.json` files first, then any file.
---@param lead string
---@return string[]
function M.complete(lead)
  local root = require("gemini_chat.client").workspace_root()
  local found = vim.fs.find(function(name)
    return name:match("%.schema%.json$") ~= nil
  end, { path = root, type = "file", limit = 50 })
  local out = {}
  for _, path in ipairs(found) do
    local rel = path:sub(#root + 2)
    if vim.startswith(rel, lead) and not rel:find("node_modules/", 1, true) then
      out[#out + 1] = rel
    end
  end
  return vim.list_extend(out, vim.fn.getcompletion(lead, "file"))
end

---The lines of a JSON-mode reply: the JSON laid out in a ```json block (as it came when it is
---not JSON), then the verdict and each problem.
---@param turn {text?: string, json: table}
---@param split fun(text: string): string[]
---@return gemini_chat.Item[]
function M.body(turn, split)
  local text = vim.trim(type(turn.text) == "string" and turn.text or "")
  local items = {} ---@type gemini_chat.Item[]
  local pretty = jsontext.pretty(text)
  if pretty then
    items[1] = { "```json" }
    for _, line in ipairs(pretty) do
      items[#items + 1] = { line }
    end
    items[#items + 1] = { "```" }
  elseif text ~= "" then
    for _, line in ipairs(split(text)) do
      items[#items + 1] = { line }
    end
  end
  local problems = type(turn.json.errors) == "table" and turn.json.errors or {}
  if turn.json.valid == true and #problems == 0 then
    items[#items + 1] = { "✓ JSON reply: valid", "json_ok" }
    return items
  end
  local n = #problems
  items[#items + 1] = {
    ("✗ JSON reply: %d problem%s"):format(n, n == 1 and "" or "s"),
    "json_error",
  }
  for _, problem in ipairs(problems) do
    -- A problem is one line; keep it so even if a message is not.
    items[#items + 1] = { "  • " .. tostring(problem):gsub("%s*\n%s*", " "), "json_error" }
  end
  return items
end

---Tell in one line that a finished JSON reply does not fit (the chat shows every problem).
---@param result table `gemini/chat`'s result.
function M.tell(result)
  local json = result.json
  if type(json) ~= "table" or json.valid ~= false then
    return
  end
  local problems = type(json.errors) == "table" and json.errors or {}
  local first = tostring(problems[1] or "invalid")
  local more = #problems > 1 and (" (+%d more in the chat)"):format(#problems - 1) or ""
  local msg = ("Gemini: the JSON reply does not fit: %s%s"):format(first, more)
  vim.notify(require("gemini_chat.errors").one_line(msg), levels.WARN)
end

return M
