---@mod gemini_chat.models The workspace's model: pick it, set it, forget it, complete names.
---
---The daemon remembers the model per workspace folder (`gemini/setModel`), for every editor on
---that folder and across restarts; the winbar shows the one the next turn uses.
local client = require("gemini_chat.client")
local config = require("gemini_chat.config")
local errors = require("gemini_chat.errors")
local session = require("gemini_chat.session")
local window = require("gemini_chat.window")

local M = {}

local levels = vim.log.levels

---Make `name` the model of the current workspace (`nil`: back to the `model` setting).
---@param name string?
function M.set(name)
  local root = client.workspace_root()
  local params = { workspace = vim.uri_from_fname(root), model = name or vim.NIL }
  client.request(root, "gemini/setModel", params, function(err, result)
    if err then
      errors.notify(err)
      return
    end
    local s = session.get(root)
    if s then
      window.set_model(s, result.model)
    end
    local where = vim.fs.basename(root)
    if name then
      vim.notify(("Gemini: model %s for %s"):format(result.model, where), levels.INFO)
    else
      vim.notify(("Gemini: %s uses the default model again"):format(where), levels.INFO)
    end
  end)
end

---The models worth offering for a chat, chat models first: never image models (Imagen).
---@param models table[]
---@return table[] chat, table[] others
local function by_kind(models)
  local chat, others = {}, {}
  for _, m in ipairs(models) do
    if m.kind == "chat" or m.kind == nil then
      chat[#chat + 1] = m
    elseif m.kind ~= "image" then
      others[#others + 1] = m
    end
  end
  return chat, others
end

local ALL = { all = true }

---Let the user choose with vim.ui.select: the chat models, then an "all models" entry that
---offers the rest too; the current model is marked.
---@param root string
---@param listed {models?: table[], default?: string} `gemini/models`'s result.
---@param everything? boolean Offer every model (after "all models" was picked).
local function choose(root, listed, everything)
  local s = session.get(root)
  local current = (s and s.model) or config.options.model or listed.default
  local chat, others = by_kind(listed.models or {})
  local items = vim.list_extend({}, chat)
  if everything then
    vim.list_extend(items, others)
  elseif #others > 0 then
    items[#items + 1] = ALL
  end
  vim.ui.select(items, {
    prompt = "Gemini model for " .. vim.fs.basename(root),
    format_item = function(m)
      if m == ALL then
        return ("  All models… (%d more: speech, robotics, research…)"):format(#others)
      end
      local mark = m.name == current and "● " or "  "
      local kind = m.kind and m.kind ~= "chat" and (" · " .. m.kind) or ""
      return ("%s%s (%s)%s"):format(mark, m.displayName or m.name, m.name, kind)
    end,
  }, function(choice)
    if choice == ALL then
      choose(root, listed, true)
    elseif choice then
      M.set(choice.name)
    end
  end)
end

---Set `name`, forget the choice (`forget`), or pick from `gemini/models` (neither).
---@param name? string
---@param forget? boolean
function M.pick(name, forget)
  if forget then
    M.set(nil)
    return
  end
  if name and name ~= "" then
    M.set(name)
    return
  end
  local root = client.workspace_root()
  client.request(root, "gemini/models", vim.empty_dict(), function(err, result)
    if err then
      errors.notify(err)
      return
    end
    choose(root, result)
  end)
end

---Model names starting with `lead`, chat models first.
---@param lead string
---@return string[]
function M.complete(lead)
  local root = client.workspace_root()
  local result = client.request_sync(root, "gemini/models", vim.empty_dict(), 5000)
  local names = {}
  local chat, others = by_kind(type(result) == "table" and result.models or {})
  for _, m in ipairs(vim.list_extend(chat, others)) do
    if vim.startswith(m.name, lead) then
      names[#names + 1] = m.name
    end
  end
  return names
end

return M
