---@mod gemini_chat.export The active conversation as a Markdown file (`gemini/export`).
---
---The daemon renders one Markdown for every client. Without a path the file goes outside the
---workspace, under Neovim's data folder, so an export never lands in the project by accident.
local client = require("gemini_chat.client")
local errors = require("gemini_chat.errors")

local M = {}

local levels = vim.log.levels

---The folder exports go to when no path is given.
---@return string
function M.folder()
  return vim.fn.stdpath("data") .. "/gemini-chat/exports"
end

---A file name from the workspace and the title: `project-fix-the-parser-20260301-142233.md`.
---@param root string
---@param title string
---@return string
local function file_name(root, title)
  local slug = title:lower():gsub("[^%w]+", "-"):gsub("^%-+", ""):gsub("%-+$", ""):sub(1, 24)
  slug = slug:gsub("%-+$", "")
  local parts = { vim.fs.basename(root), slug ~= "" and slug or "chat", os.date("%Y%m%d-%H%M%S") }
  return table.concat(parts, "-") .. ".md"
end

---Write `markdown` to `target`, creating its folder, and say where it went.
---@param target string
---@param markdown string
local function write(target, markdown)
  target = vim.fn.fnamemodify(vim.fn.expand(target), ":p")
  vim.fn.mkdir(vim.fs.dirname(target), "p")
  local lines = vim.split(markdown, "\n", { plain = true })
  if lines[#lines] == "" then
    lines[#lines] = nil -- writefile ends every line, the last one too
  end
  local ok, err = pcall(vim.fn.writefile, lines, target)
  if not ok or err ~= 0 then
    vim.notify("Gemini: cannot write " .. target, levels.ERROR)
    return
  end
  -- One line, the path as short as it stays exact (a long one would stop at "Press ENTER").
  vim.notify("Gemini: exported to " .. vim.fn.fnamemodify(target, ":~"), levels.INFO)
end

---`:GeminiChatExport [file]`: the active conversation to `path`, or to a new file under
---M.folder().
---@param path? string
function M.run(path)
  local root = client.workspace_root()
  local params = { workspace = vim.uri_from_fname(root) }
  client.request(root, "gemini/export", params, function(err, result)
    if err then
      errors.notify(err)
      return
    end
    local title = tostring(result.title or "chat")
    if path and path ~= "" then
      write(path, result.markdown or "")
    else
      write(M.folder() .. "/" .. file_name(root, title), result.markdown or "")
    end
  end)
end

return M
