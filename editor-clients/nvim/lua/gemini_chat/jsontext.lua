---@mod gemini_chat.jsontext JSON text kept as written: laid out for reading, decoded in order.
---
---vim.json forgets the order of an object's keys. A reply is laid out from its own text, so
---its keys show in the order the model wrote them; a schema file is decoded with the order of
---each object's keys beside it, so `propertyOrdering` can say the order the file gives.
local M = {}

---@alias gemini_chat.JsonToken {[1]: string, [2]: string} kind ("{", "}", "[", "]", ",", ":",
---"value") and text

---The tokens of `text`, which vim.json.decode has already accepted.
---@param text string
---@return gemini_chat.JsonToken[]
local function tokens(text)
  local out, i, n = {}, 1, #text
  while i <= n do
    local c = text:sub(i, i)
    if c == '"' then
      local j = i + 1
      while true do
        local k = assert(text:find('["\\]', j))
        if text:sub(k, k) == '"' then
          j = k
          break
        end
        j = k + 2 -- an escape: the next character cannot end the string
      end
      out[#out + 1] = { "value", text:sub(i, j) }
      i = j + 1
    elseif c:find("[{}%[%],:]") then
      out[#out + 1] = { c, c }
      i = i + 1
    elseif c:find("%s") then
      i = i + 1
    else
      local j = text:find('[%s{}%[%],:"]', i) or n + 1
      out[#out + 1] = { "value", text:sub(i, j - 1) }
      i = j
    end
  end
  return out
end

local opens = { ["{"] = true, ["["] = true }
local closes = { ["}"] = true, ["]"] = true }

---`text` laid out two spaces an indent, one member a line, in its own order; nil when it is not
---JSON.
---@param text string
---@return string[]?
function M.pretty(text)
  if type(text) ~= "string" or not pcall(vim.json.decode, text) then
    return nil
  end
  local toks = tokens(text)
  local lines, line, depth = {}, "", 0
  local function new_line()
    lines[#lines + 1] = line
    line = ("  "):rep(depth)
  end
  for i, t in ipairs(toks) do
    local kind, next_kind, prev_kind = t[1], (toks[i + 1] or {})[1], (toks[i - 1] or {})[1]
    if opens[kind] then
      line = line .. kind
      if not closes[next_kind] then -- `{}` and `[]` stay on one line
        depth = depth + 1
        new_line()
      end
    elseif closes[kind] then
      if not opens[prev_kind] then
        depth = depth - 1
        new_line()
      end
      line = line .. kind
    elseif kind == "," then
      line = line .. ","
      new_line()
    else
      line = line .. (kind == ":" and ": " or t[2])
    end
  end
  lines[#lines + 1] = line
  return lines
end

---Decode `text` as vim.json does, and say the order of each object's keys.
---@param text string
---@return any value, table<table, string[]> order Keys of each decoded object, as written.
---@return string? err When `text` is not JSON.
function M.decode(text)
  local ok, err = pcall(vim.json.decode, text)
  if not ok then
    return nil, {}, tostring(err)
  end
  local toks, pos, order = tokens(text), 1, {}
  local function value()
    local t = toks[pos]
    pos = pos + 1
    if t[1] == "value" then
      return vim.json.decode(t[2])
    end
    local object = t[1] == "{"
    local out, keys = object and vim.empty_dict() or {}, {}
    while toks[pos][1] ~= (object and "}" or "]") do
      if object then
        keys[#keys + 1] = vim.json.decode(toks[pos][2])
        pos = pos + 2 -- the key and its ":"
        out[keys[#keys]] = value()
      else
        out[#out + 1] = value()
      end
      pos = pos + (toks[pos][1] == "," and 1 or 0)
    end
    pos = pos + 1
    order[out] = object and keys or nil
    return out
  end
  return value(), order, nil
end

return M
