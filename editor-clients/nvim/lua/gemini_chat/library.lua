---@mod gemini_chat.library The conversations of a folder: list and open, rename, delete.
---
---Every change goes through the daemon, which tells every editor on the folder
---(`gemini/conversationChanged`): the chat buffer reloads from that, here as elsewhere.
local client = require("gemini_chat.client")
local errors = require("gemini_chat.errors")
local status = require("gemini_chat.status")

local M = {}

local levels = vim.log.levels

---@class gemini_chat.Conversation
---@field id string
---@field title string
---@field created string
---@field updated string
---@field turns integer
---@field active boolean

---"3 min ago", "yesterday", "12 Mar" for an ISO-8601 time.
---@param iso string?
---@return string
function M.when(iso)
  local t = status.parse_utc(iso)
  if not t then
    return ""
  end
  local ago = os.time() - t
  if ago < 60 then
    return "just now"
  elseif ago < 3600 then
    return ("%d min ago"):format(math.floor(ago / 60))
  elseif ago < 86400 then
    return ("%d h ago"):format(math.floor(ago / 3600))
  elseif ago < 2 * 86400 then
    return "yesterday"
  end
  return os.date("%d %b %Y", t) --[[@as string]]
end

---The current workspace's conversations, most recently updated first.
---@param cb fun(list: gemini_chat.Conversation[], active: string?)
local function list(cb)
  local root = client.workspace_root()
  local params = { workspace = vim.uri_from_fname(root), limit = 1000 }
  client.request(root, "gemini/conversations", params, function(err, result)
    if err then
      return errors.notify(err)
    end
    local active = result.active ~= vim.NIL and result.active or nil
    cb(result.conversations or {}, active)
  end)
end

---@param c gemini_chat.Conversation
---@return string
local function format_item(c)
  local n = tonumber(c.turns) or 0
  return ("%s %s  · %d exchange%s · %s"):format(
    c.active and "●" or " ",
    c.title ~= "" and c.title or "(untitled)",
    n,
    n == 1 and "" or "s",
    M.when(c.updated)
  )
end

---Run `method` on conversation `id` of the current workspace, then `done(result)`.
---@param method string
---@param params table
---@param done fun(result: table)
local function call(method, params, done)
  local root = client.workspace_root()
  params.workspace = vim.uri_from_fname(root)
  client.request(root, method, params, function(err, result)
    if err then
      return errors.notify(err)
    end
    done(result)
  end)
end

---`:GeminiChatHistory`: pick a conversation (vim.ui.select, so Telescope, fzf-lua and snacks
---pickers show it) and make it the folder's active one; the chat shows it.
function M.pick()
  list(function(conversations, active)
    if #conversations == 0 then
      return vim.notify("Gemini: no conversations in this folder yet", levels.INFO)
    end
    vim.ui.select(conversations, {
      prompt = ("Gemini conversations of %s"):format(vim.fs.basename(client.workspace_root())),
      format_item = format_item,
      kind = "gemini_chat.conversation",
    }, function(choice)
      if not choice then
        return
      end
      local function show()
        require("gemini_chat.chat").open({ args = "", range = 0, line1 = 0, line2 = 0 })
      end
      if choice.id == active then
        return show()
      end
      call("gemini/openConversation", { id = choice.id }, function()
        vim.notify(("Gemini: opened “%s”"):format(choice.title), levels.INFO)
        show()
      end)
    end)
  end)
end

---The active conversation, or nil after saying there is none.
---@param cb fun(c: gemini_chat.Conversation)
local function with_active(cb)
  list(function(conversations, active)
    for _, c in ipairs(conversations) do
      if c.id == active then
        return cb(c)
      end
    end
    vim.notify("Gemini: no conversation yet in this folder (ask something first)", levels.INFO)
  end)
end

---`:GeminiChatRename {title}`: retitle the active conversation (asked for when not given).
---@param title string
function M.rename(title)
  with_active(function(c)
    local function apply(new)
      if not new or vim.trim(new) == "" then
        return
      end
      call("gemini/renameConversation", { id = c.id, title = new }, function(result)
        vim.notify(("Gemini: renamed to “%s”"):format(result.title), levels.INFO)
      end)
    end
    if vim.trim(title or "") ~= "" then
      return apply(title)
    end
    vim.ui.input({ prompt = "Conversation title: ", default = c.title }, apply)
  end)
end

---`:GeminiChatDelete`: delete the active conversation for good, once confirmed.
function M.delete()
  with_active(function(c)
    local n = tonumber(c.turns) or 0
    local prompt = ("Delete “%s” (%d exchange%s) for good?"):format(
      c.title,
      n,
      n == 1 and "" or "s"
    )
    vim.ui.select({ "Delete it", "Keep it" }, { prompt = prompt }, function(choice)
      if choice ~= "Delete it" then
        return
      end
      call("gemini/deleteConversation", { id = c.id }, function()
        vim.notify(("Gemini: deleted “%s”"):format(c.title), levels.INFO)
      end)
    end)
  end)
end

return M
