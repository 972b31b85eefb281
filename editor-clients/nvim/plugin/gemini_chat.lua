-- Commands of gemini_chat; the module loads on first use.
if vim.g.loaded_gemini_chat then
  return
end
vim.g.loaded_gemini_chat = true

if vim.fn.has("nvim-0.10") ~= 1 then
  vim.notify("gemini_chat needs Neovim 0.10 or newer", vim.log.levels.ERROR)
  return
end

local command = vim.api.nvim_create_user_command

command("GeminiChat", function(opts)
  require("gemini_chat").command_chat(opts)
end, {
  nargs = "*",
  range = true,
  desc = "Open the Gemini chat of this workspace; send [message] (a range attaches the lines)",
})

command("GeminiChatStop", function()
  require("gemini_chat").stop()
end, { desc = "Stop the Gemini reply in progress" })

command("GeminiChatReset", function()
  require("gemini_chat").reset()
end, { desc = "Archive this workspace's Gemini chat and start a fresh one" })

command("GeminiChatModel", function(opts)
  require("gemini_chat").pick_model(opts.args, opts.bang)
end, {
  nargs = "?",
  bang = true,
  complete = function(lead)
    return require("gemini_chat").complete_models(lead)
  end,
  desc = "Pick this workspace's Gemini model (or set [name]; ! goes back to the default)",
})

command("GeminiChatExport", function(opts)
  require("gemini_chat").export(opts.args)
end, { nargs = "?", complete = "file", desc = "Write the Gemini chat to a Markdown [file]" })
