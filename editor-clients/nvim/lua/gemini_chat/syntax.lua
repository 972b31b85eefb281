---@mod gemini_chat.syntax Code in fenced blocks, highlighted in its language.
---
---With Neovim's markdown treesitter parser (shipped since 0.10) the chat buffer is parsed as
---markdown, whose injections highlight each fenced block with its language's parser when that
---parser is installed. A block in a language without a parser gets the colours of the
---language's regex syntax, worked out in a scratch buffer and copied as extmarks. Without the
---markdown parser, the regex syntax of markdown is used with `g:markdown_fenced_languages` set to
---the languages the buffer's blocks name (only while its syntax loads, so the user's own
---markdown buffers are left as they are).
local M = {}

local code_ns = vim.api.nvim_create_namespace("gemini_chat_code")

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

---The Vim syntax of a fence's language ("py" -> "python"), if Neovim has one.
---@param name string
---@return string?
local function vim_syntax(name)
  local ft = vim.filetype.match({ filename = "x." .. name }) or aliases[name] or name
  if #vim.api.nvim_get_runtime_file(("syntax/%s.vim"):format(ft), false) > 0 then
    return ft
  end
  return nil
end

---Whether treesitter highlights a fence's language (its parser is installed).
---@param name string
---@return boolean
local function has_parser(name)
  local ft = vim.filetype.match({ filename = "x." .. name }) or name
  local lang = vim.treesitter.language.get_lang(ft) or ft
  local ok, added = pcall(vim.treesitter.language.add, lang)
  -- 0.11 answers true or nil; 0.10 answers nothing, and raises when there is no parser.
  return ok and (added == true or vim.fn.has("nvim-0.11") == 0)
end

---Highlight groups of `lines` under Vim syntax `syntax`, as {row, start col, end col, group}.
---@param lines string[]
---@param syntax string
---@return table[]
local function syntax_runs(lines, syntax)
  local scratch = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(scratch, 0, -1, false, lines)
  local runs = {}
  vim.api.nvim_buf_call(scratch, function()
    vim.bo.syntax = syntax
    for row, line in ipairs(lines) do
      local from, group = 1, ""
      for col = 1, #line + 1 do
        local id = col <= #line and vim.fn.synIDtrans(vim.fn.synID(row, col, 1)) or 0
        local name = id ~= 0 and vim.fn.synIDattr(id, "name") or ""
        if name ~= group then
          if group ~= "" then
            runs[#runs + 1] = { row - 1, from - 1, col - 1, group }
          end
          from, group = col, name
        end
      end
    end
  end)
  vim.api.nvim_buf_delete(scratch, { force = true })
  return runs
end

---Colour the blocks of rows [first, stop) of `buf` whose language treesitter cannot highlight.
---@param buf integer
---@param first integer
---@param stop integer
local function colour_blocks(buf, first, stop)
  for _, b in ipairs(require("gemini_chat.code").blocks(buf)) do
    local syntax = b.lang ~= "" and b.first < stop and b.last - 1 > first and vim_syntax(b.lang)
    if syntax and not has_parser(b.lang) then
      vim.api.nvim_buf_clear_namespace(buf, code_ns, b.first, b.first + #b.lines)
      for _, r in ipairs(syntax_runs(b.lines, syntax)) do
        -- Above treesitter's own highlight of the block (priority 100).
        vim.api.nvim_buf_set_extmark(buf, code_ns, b.first + r[1], r[2], {
          end_col = r[3],
          hl_group = r[4],
          priority = 110,
        })
      end
    end
  end
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

---Highlight the code blocks of rows [first, stop) of `buf` (default: all), once they are
---drawn: under treesitter, the blocks its parsers cannot do; else load the fenced languages
---that appeared since the last call.
---@param buf integer
---@param first? integer
---@param stop? integer
function M.refresh(buf, first, stop)
  if vim.g.syntax_on == nil then
    return
  end
  if not fallback[buf] then
    return colour_blocks(buf, first or 0, stop or vim.api.nvim_buf_line_count(buf))
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
