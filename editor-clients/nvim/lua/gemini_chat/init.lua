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

---`:GeminiChatExport [file]`: write the active conversation as Markdown to `file`, or to a new
---file under stdpath("data")/gemini-chat/exports.
---@param path? string
function M.export(path)
  require("gemini_chat.export").run(path)
end

---`:GeminiChatResend`: send the question of an interrupted turn again.
function M.resend()
  require("gemini_chat.chat").resend()
end

---`:GeminiChatHistory`: pick one of the folder's conversations (vim.ui.select) and open it.
function M.history()
  require("gemini_chat.library").pick()
end

---`:GeminiChatRename {title}`: retitle the active conversation.
---@param title string
function M.rename(title)
  require("gemini_chat.library").rename(title)
end

---`:GeminiChatDelete`: delete the active conversation for good, once confirmed.
function M.delete()
  require("gemini_chat.library").delete()
end

---`:GeminiChatAttach [path ...]`: attach files (or `%`, the current buffer) to the next message.
---@param paths string[]
function M.attach(paths)
  require("gemini_chat.attach").run(paths)
end

---`:GeminiChatDetach[!] [name]`: remove an attachment of the next message (`!`: all of them).
---@param name? string
---@param all? boolean
function M.detach(name, all)
  require("gemini_chat.attach").detach(nil, name ~= "" and name or nil, all)
end

---Names of the pending attachments, for `:GeminiChatDetach <Tab>`.
---@param lead string
---@return string[]
function M.complete_pending(lead)
  return require("gemini_chat.attach").complete_pending(lead)
end

---`:GeminiChatImage [Nx] [W:H] {prompt}`: pictures from Imagen, as a turn of the chat.
---@param args string
function M.image(args)
  require("gemini_chat.imagen").command(args)
end

---Counts and ratios for `:GeminiChatImage <Tab>`.
---@param lead string
---@param line string
---@return string[]
function M.complete_image(lead, line)
  return require("gemini_chat.imagen").complete(lead, line)
end

---`:GeminiChatJson [schema-file]`: replies as JSON from now on; `off` (`!`): JSON mode off.
---@param schema string
---@param off boolean
function M.json(schema, off)
  require("gemini_chat.structured").command(schema, off)
end

---Schema files for `:GeminiChatJson <Tab>`.
---@param lead string
---@return string[]
function M.complete_schema(lead)
  return require("gemini_chat.structured").complete(lead)
end

---`:GeminiChatStatus`: the daemon, the workspace's model and cost so far, the rate limit.
function M.status()
  require("gemini_chat.status").command()
end

---`:GeminiChatInstall`: install the daemon (lazy.nvim's `build` runs it).
function M.install()
  require("gemini_chat.install").command_install()
end

return M
