---@mod gemini_chat.export The conversation as a Markdown file.
local blocks = require("gemini_chat.blocks")
local client = require("gemini_chat.client")
local errors = require("gemini_chat.errors")

local M = {}

local levels = vim.log.levels

---The conversation as Markdown.
---@param root string
---@param turns table[] `gemini/history` turns.
---@return string[]
function M.markdown(root, turns)
  local out = {
    "# Gemini chat: " .. vim.fs.basename(root),
    "",
    ("_Exported %s from %s_"):format(os.date("%Y-%m-%d %H:%M"), root),
  }
  local summarised = nil ---@type integer?
  for _, turn in ipairs(turns) do
    if turn.role == "user" and blocks.compacted_turns(turn.compacted) then
      summarised = blocks.compacted_turns(turn.compacted)
    elseif turn.role == "user" then
      vim.list_extend(out, { "", "---", "", "## You", "" })
      vim.list_extend(out, vim.split(turn.text or "", "\n", { plain = true }))
      for _, a in ipairs(turn.attachments or {}) do
        out[#out + 1] = "> attached: " .. tostring(a.name or "attachment")
      end
    elseif summarised then
      out[#out + 1] = ""
      vim.list_extend(out, blocks.texts(blocks.summary(summarised, turn.text or "")))
      summarised = nil
    else
      vim.list_extend(out, { "", "## Gemini", "" })
      vim.list_extend(out, blocks.texts(blocks.model_body(turn)))
    end
  end
  out[#out + 1] = ""
  return out
end

---Write the conversation of `root` to `target` and say where it went.
---@param root string
---@param target string
---@param turns table[]
local function write(root, target, turns)
  target = vim.fn.fnamemodify(vim.fn.expand(target), ":p")
  local ok, err = pcall(vim.fn.writefile, M.markdown(root, turns), target)
  if not ok or err ~= 0 then
    vim.notify("Gemini: cannot write " .. target, levels.ERROR)
    return
  end
  vim.notify("Gemini: chat exported to " .. target, levels.INFO)
end

---Write the current workspace's conversation to `path`, or to a file the user is asked for.
---@param path? string
function M.run(path)
  local root = client.workspace_root()
  local params = { workspace = vim.uri_from_fname(root) }
  client.request(root, "gemini/history", params, function(err, result)
    if err then
      errors.notify(err)
      return
    end
    local turns = result.turns or {}
    if path and path ~= "" then
      write(root, path, turns)
      return
    end
    local default = ("%s/gemini-chat-%s.md"):format(root, os.date("%Y%m%d-%H%M%S"))
    local prompt = { prompt = "Export the chat to: ", default = default, completion = "file" }
    vim.ui.input(prompt, function(input)
      if input and input ~= "" then
        write(root, input, turns)
      end
    end)
  end)
end

return M
