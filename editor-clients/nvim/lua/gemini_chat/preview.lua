---@mod gemini_chat.preview Pictures shown in the chat by an image plugin, when one is there.
---
---The chat shows every picture as a Markdown image line (`![image](/path.png)`), which any
---Markdown reader follows. With snacks.nvim's image module set up (`Snacks.image`, enabled, in a
---terminal that can show images), its document renderer is attached to the chat buffer and
---draws them there. The plugin only looks for snacks: it never loads it.
local M = {}

---snacks.nvim's image module, when snacks is loaded and its image module enabled.
---@return table?
local function snacks_image()
  local snacks = rawget(_G, "Snacks") or package.loaded["snacks"]
  if type(snacks) ~= "table" then
    return nil
  end
  local ok, image = pcall(function()
    return snacks.image
  end)
  if not ok or type(image) ~= "table" or type(image.config) ~= "table" then
    return nil
  end
  if not image.config.enabled or (image.config.doc or {}).enabled == false then
    return nil -- the user left snacks' images off
  end
  return image
end

---Attach an image plugin to `buf` (once), if one can show pictures here; say which.
---@param buf integer
---@return string? plugin
function M.attach(buf)
  if vim.b[buf].gemini_chat_preview then
    return vim.b[buf].gemini_chat_preview
  end
  local image = snacks_image()
  local ok, supported = pcall(function()
    return image and image.supports_terminal()
  end)
  if not (ok and supported) then
    return nil
  end
  ---@cast image -nil
  if pcall(image.doc.attach, buf) then
    vim.b[buf].gemini_chat_preview = "snacks.image"
    return "snacks.image"
  end
  return nil
end

return M
