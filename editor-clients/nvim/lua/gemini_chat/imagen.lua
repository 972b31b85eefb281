---@mod gemini_chat.imagen Pictures: Imagen (`:GeminiChatImage`) and image editing with Gemini.
---
---`:GeminiChatImage [Nx] [W:H] {prompt}` asks Imagen (`gemini/generateImage`) for N pictures
---(1-4) in the aspect ratio W:H; the request is a turn of the folder's conversation, queued like
---a message and seen live by every editor on the folder. Gemini's own image models (their name
---says "image": gemini-2.5-flash-image, gemini-3-pro-image-preview) edit pictures in an ordinary
---turn when asked for TEXT and IMAGE: the plugin asks so whenever the workspace's model is one.
local config = require("gemini_chat.config")

local M = {}

---The aspect ratios Imagen takes (the daemon checks them too), for completion.
M.RATIOS = { "1:1", "3:4", "4:3", "9:16", "16:9" }

---@class gemini_chat.Imagen The options of an Imagen request.
---@field numberOfImages? integer
---@field aspectRatio? string
---@field model? string An Imagen model (none: the daemon's imageModel or first Imagen model).

---Split `:GeminiChatImage`'s arguments: a leading `Nx` (count) and `W:H` (ratio), in either
---order, then the prompt as typed.
---@param args string
---@return string prompt, gemini_chat.Imagen opts
function M.parse(args)
  local rest, opts = vim.trim(args), {} ---@type string, gemini_chat.Imagen
  while true do
    local word, after = rest:match("^(%S+)%s*(.*)$")
    local n = word and word:match("^(%d+)x$")
    if n and not opts.numberOfImages then
      opts.numberOfImages = tonumber(n)
    elseif word and word:match("^%d+:%d+$") and not opts.aspectRatio then
      opts.aspectRatio = word
    else
      return rest, opts
    end
    rest = after
  end
end

---`:GeminiChatImage [Nx] [W:H] {prompt}`.
---@param args string
function M.command(args)
  local prompt, opts = M.parse(args)
  if prompt == "" then
    vim.notify("Gemini: :GeminiChatImage [Nx] [W:H] {prompt}, e.g. 2x 16:9 a lighthouse at dusk")
    return
  end
  local chat = require("gemini_chat.chat")
  local s = chat.current()
  require("gemini_chat.window").show(s)
  chat.send_image(s, prompt, opts)
end

---`:GeminiChatImage <Tab>`: a count and a ratio (whichever is not given yet) before the prompt.
---@param lead string
---@param line string The command line so far.
---@return string[]
function M.complete(lead, line)
  local before = line:match("^%S+%s+(.-)%S*$") or ""
  local prompt, given = M.parse(before)
  if prompt ~= "" then
    return {} -- the prompt has begun
  end
  local choices = given.numberOfImages and {} or { "1x", "2x", "3x", "4x" }
  if not given.aspectRatio then
    vim.list_extend(choices, M.RATIOS)
  end
  return vim.tbl_filter(function(choice)
    return vim.startswith(choice, lead)
  end, choices)
end

---How many pictures a request asks for, in words: `2 images`.
---@param opts table `gemini_chat.Imagen`, or history's `imagen`.
---@return string
local function images(opts)
  local n = math.floor(tonumber(opts.numberOfImages) or 1)
  return ("%d image%s"):format(n, n == 1 and "" or "s")
end

---The dim line under an Imagen prompt: `🎨 Imagen · 2 images · 16:9`.
---@param opts table `gemini_chat.Imagen`, or history's `imagen`.
---@return gemini_chat.Item
function M.note(opts)
  local text = "🎨 Imagen · " .. images(opts)
  if type(opts.aspectRatio) == "string" then
    text = text .. " · " .. opts.aspectRatio
  end
  return { text, "hint" }
end

---What a request waiting for Imagen is doing: `drawing 2 images`.
---@param opts table `gemini_chat.Imagen`, or history's `imagen`.
---@return string
function M.drawing(opts)
  return "drawing " .. images(opts)
end

---The parameters of an interrupted image request (`gemini/history`'s `interrupted.image`, or
---`gemini/turnProgress`'s `image` of another editor's request), as `gemini/generateImage` takes
---them; nil for a chat question.
---@param turn table
---@return gemini_chat.Imagen?
function M.asked(turn)
  local image = turn.image
  if type(image) ~= "table" then
    return nil
  end
  local n = tonumber(image.numberOfImages)
  return {
    numberOfImages = n and math.floor(n) or nil,
    model = type(image.model) == "string" and image.model or nil,
    aspectRatio = type(image.aspectRatio) == "string" and image.aspectRatio or nil,
  }
end

---Lines saying why Imagen dropped pictures (`filtered`: one reason each).
---@param filtered any
---@return gemini_chat.Item[]
function M.filtered(filtered)
  local items = {}
  for _, reason in ipairs(type(filtered) == "table" and filtered or {}) do
    items[#items + 1] = { "⚠ an image was filtered out: " .. tostring(reason), "stopped" }
  end
  return items
end

---Whether a turn with `model` asks for images back (image editing): Gemini's image models do,
---unless the `settings` choose responseModalities themselves (then the daemon sends theirs).
---@param model any
---@return boolean
function M.edits(model)
  local gc = (config.options.settings or {}).generationConfig
  if type(gc) == "table" and gc.responseModalities ~= nil then
    return false
  end
  return type(model) == "string"
    and model:find("image", 1, true) ~= nil
    and not vim.startswith(model, "imagen")
end

return M
