---@mod gemini_chat Chat with Google's Gemini in Neovim, through the gemini-chat daemon.
---
---The public API: `setup()` and one entry point per command of plugin/gemini_chat.lua. The work
---lives in the modules named for their job (see the README's "Develop" section); they load on
---first use, so `setup()` at startup costs only the option check.
local M = {}

---Configure the plugin. Optional: every option has a default.
---@param opts? gemini_chat.Opts
function M.setup(opts)
  require("gemini_chat.config").set(opts)
end

---`:[range]GeminiChat [message]`: open the workspace's chat; attach the range, send the message.
---@param opts {args: string, range: integer, line1: integer, line2: integer}
function M.command_chat(opts)
  require("gemini_chat.chat").open(opts)
end

---`:GeminiChatStop`: cancel the reply in progress.
function M.stop()
  require("gemini_chat.chat").stop()
end

---`:GeminiChatReset`: archive the conversation and start a fresh one.
function M.reset()
  require("gemini_chat.chat").reset()
end

---`:GeminiChatModel [name]`: pick the workspace's model with vim.ui.select over
---`gemini/models`, or set `name`; `:GeminiChatModel!` (`forget`) goes back to the default.
---@param name? string
---@param forget? boolean
function M.pick_model(name, forget)
  require("gemini_chat.models").pick(name, forget)
end

---Model names for `:GeminiChatModel <Tab>`.
---@param lead string
---@return string[]
function M.complete_models(lead)
  return require("gemini_chat.models").complete(lead)
end

---`:GeminiChatExport [file]`: write the conversation to a Markdown file.
---@param path? string
function M.export(path)
  require("gemini_chat.export").run(path)
end

return M
