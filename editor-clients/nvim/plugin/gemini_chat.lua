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
  bang = true,
  desc = "Open the Gemini chat; send [message] (a range attaches the lines; ! asks for JSON)",
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

command("GeminiChatResend", function()
  require("gemini_chat").resend()
end, { desc = "Send the question of an interrupted Gemini turn again" })

command("GeminiChatHistory", function()
  require("gemini_chat").history()
end, { desc = "Pick one of this workspace's Gemini conversations and open it" })

command("GeminiChatRename", function(opts)
  require("gemini_chat").rename(opts.args)
end, { nargs = "*", desc = "Rename this workspace's Gemini conversation to {title}" })

command("GeminiChatDelete", function()
  require("gemini_chat").delete()
end, { desc = "Delete this workspace's Gemini conversation for good (asks first)" })

command("GeminiChatExport", function(opts)
  require("gemini_chat").export(opts.args)
end, {
  nargs = "?",
  complete = "file",
  desc = "Write the Gemini conversation as Markdown to [file] (default: under stdpath('data'))",
})

command("GeminiChatAttach", function(opts)
  require("gemini_chat").attach(opts.fargs)
end, {
  nargs = "*",
  complete = "file",
  desc = "Attach files ([path ...], % for the current buffer) to the next Gemini message",
})

command("GeminiChatDetach", function(opts)
  require("gemini_chat").detach(opts.args, opts.bang)
end, {
  nargs = "?",
  bang = true,
  complete = function(lead)
    return require("gemini_chat").complete_pending(lead)
  end,
  desc = "Remove an attachment of the next Gemini message ([name]; ! removes all)",
})

command("GeminiChatImage", function(opts)
  require("gemini_chat").image(opts.args)
end, {
  nargs = "+",
  complete = function(lead, line)
    return require("gemini_chat").complete_image(lead, line)
  end,
  desc = "Ask Imagen for [Nx] pictures [W:H] of {prompt}, as a turn of this workspace's chat",
})

command("GeminiChatJson", function(opts)
  require("gemini_chat").json(opts.args, opts.bang)
end, {
  nargs = "?",
  bang = true,
  complete = function(lead)
    return require("gemini_chat").complete_schema(lead)
  end,
  desc = "Replies as JSON from now on, shaped by [schema-file] (! turns JSON mode off)",
})

command("GeminiChatStatus", function()
  require("gemini_chat").status()
end, { desc = "Gemini: the daemon, this workspace's model and cost, the rate limit" })

command("GeminiChatInstall", function()
  require("gemini_chat").install()
end, { desc = "Install (or update) the gemini-chat-server daemon: uv, else pipx, else a venv" })
