---@mod gemini_chat.usage The dim line under a reply: tokens (or images), model, cost.
---
---  _tokens: 41 prompt · 9 reply · 50 total · gemini-2.5-flash · $0.000016 (conversation $0.00021)_
---  _2 images · imagen-4.0-generate-001 · $0.08 (conversation $0.08)_
---
---The cost is the daemon's (`usage.cost`: this reply and the conversation's priced replies so
---far); a model without a price shows tokens only.
local M = {}

---A dollar amount with about three significant digits, and never fewer than two decimals:
---$0.08, $1.23, $0.000141.
---@param amount number
---@return string
function M.money(amount)
  if amount <= 0 then
    return "$0.00"
  end
  local decimals = math.max(2, 2 - math.floor(math.log10(amount)))
  local text = ("%." .. math.min(decimals, 8) .. "f"):format(amount)
  -- Trailing zeros past the cents say nothing: 0.0800 -> 0.08.
  text = text:gsub("(%.%d%d%d-)0+$", "%1")
  return "$" .. text
end

---" · $reply (conversation $total)", or "" without a cost.
---@param cost any `usage.cost`
---@return string
local function cost_part(cost)
  if type(cost) ~= "table" or type(cost.reply) ~= "number" then
    return ""
  end
  local text = " · " .. M.money(cost.reply)
  if type(cost.conversation) == "number" then
    text = text .. (" (conversation %s)"):format(M.money(cost.conversation))
  end
  return text
end

---@param value any
---@return integer
local function count(value)
  return math.floor(tonumber(value) or 0)
end

---The token counts: prompt (and cached), reply, thinking, total.
---@param usage table
---@return string
local function tokens(usage)
  local text = ("tokens: %d prompt"):format(count(usage.promptTokens))
  if count(usage.cachedTokens) > 0 then
    text = text .. (" (%d cached)"):format(count(usage.cachedTokens))
  end
  text = text .. (" · %d reply"):format(count(usage.replyTokens))
  if count(usage.thoughtsTokens) > 0 then
    text = text .. (" · %d thinking"):format(count(usage.thoughtsTokens))
  end
  return text .. (" · %d total"):format(count(usage.totalTokens))
end

---The usage line of a reply, or nil without usage. An Imagen exchange (images made, no tokens)
---counts its images instead of tokens.
---@param usage table?
---@param model string?
---@return string?
function M.line(usage, model)
  if type(usage) ~= "table" then
    return nil
  end
  local images = count(usage.images)
  local text
  if images > 0 and count(usage.totalTokens) == 0 then
    text = ("%d image%s"):format(images, images == 1 and "" or "s")
  else
    text = tokens(usage)
  end
  if type(model) == "string" and model ~= "" then
    text = text .. " · " .. model
  end
  return "_" .. text .. cost_part(usage.cost) .. "_"
end

---The conversation's cost so far from a usage, or nil when the reply was not priced.
---@param usage any
---@return number?
function M.conversation(usage)
  local cost = type(usage) == "table" and usage.cost or nil
  return type(cost) == "table" and tonumber(cost.conversation) or nil
end

return M
