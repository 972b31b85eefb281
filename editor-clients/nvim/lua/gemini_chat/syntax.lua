---@mod gemini_chat.syntax Code in fenced blocks, highlighted in its language.
---
---With Neovim's markdown treesitter parser (shipped since 0.10) the chat buffer is parsed as
---markdown, whose injections highlight each fenced block with its language's parser when that
---parser is installed. Without the parser, the regex syntax of markdown is used with
---`g:markdown_fenced_languages` set to the languages the buffer's blocks name (only while its
---syntax loads, so the user's own markdown buffers are left as they are).
local M = {}

---Buffers highlighted by the regex fallback: the languages loaded so far.
---@type table<integer, table<string, boolean>>
local fallback = {}

-- Fence names that differ from the Vim syntax file's name.
local aliases = {
  py = "python",
  js = "javascript",
  ts = "typescript",
  bash = "sh",
  shell = "sh",
  zsh = "sh",
  console = "sh",
  ["c++"] = "cpp",
  rs = "rust",
  rb = "ruby",
  yml = "yaml",
  md = "markdown",
}

---Start highlighting the chat buffer `buf`.
---@param buf integer
---@return "treesitter"|"syntax"
function M.start(buf)
  if pcall(vim.treesitter.start, buf, "markdown") then
    return "treesitter"
  end
  fallback[buf] = {}
  vim.api.nvim_create_autocmd("BufWipeout", {
    buffer = buf,
    once = true,
    callback = function()
      fallback[buf] = nil
    end,
  })
  M.refresh(buf)
  return "syntax"
end

---The languages named by the fences of `buf` that have a Vim syntax file, as
---`g:markdown_fenced_languages` entries ("py=python").
---@param buf integer
---@return string[] entries, boolean new Whether a language not loaded yet is among them.
local function fenced_languages(buf)
  local seen, entries, new = {}, {}, false
  for _, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    local name = line:match("^%s*```+%s*([%w_+#.-]+)") or line:match("^%s*~~~+%s*([%w_+#.-]+)")
    name = name and name:lower()
    if name and not seen[name] then
      seen[name] = true
      local syntax = aliases[name] or name
      if #vim.api.nvim_get_runtime_file(("syntax/%s.vim"):format(syntax), false) > 0 then
        entries[#entries + 1] = name == syntax and name or ("%s=%s"):format(name, syntax)
        new = new or not fallback[buf][name]
        fallback[buf][name] = true
      end
    end
  end
  return entries, new
end

---Load the fenced languages of `buf` that appeared since the last call (fallback only).
---@param buf integer
function M.refresh(buf)
  if not fallback[buf] or vim.g.syntax_on == nil then
    return
  end
  local entries, new = fenced_languages(buf)
  if not new and vim.b[buf].current_syntax ~= nil then
    return
  end
  local saved = vim.g.markdown_fenced_languages
  vim.g.markdown_fenced_languages = entries
  vim.api.nvim_buf_call(buf, function()
    vim.cmd("syntax clear")
    vim.b.current_syntax = nil
    vim.bo.syntax = "ON" -- reloads the syntax of the buffer's filetype
  end)
  vim.g.markdown_fenced_languages = saved
end

return M
