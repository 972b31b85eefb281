---@mod gemini_chat.status `:GeminiChatStatus`: the daemon, this workspace, the rate limit.
---
---The rate limit is `gemini/status`'s `rateLimit`: the newest 429 the daemon met (which quota,
---per minute or per day, and when it lifts), compared here with the time now.
local M = {}

local levels = vim.log.levels

---Seconds since the epoch of a UTC time `2026-03-01T12:00:26Z`, or nil.
---@param stamp any
---@return integer?
function M.parse_utc(stamp)
  local y, mo, d, h, mi, s = tostring(stamp):match("^(%d+)-(%d+)-(%d+)T(%d+):(%d+):(%d+)")
  if not y then
    return nil
  end
  local fields = { year = y, month = mo, day = d, hour = h, min = mi, sec = s, isdst = false }
  for key, value in pairs(fields) do
    fields[key] = tonumber(value) or value
  end
  -- os.time reads the fields as local time: move them by the local offset from UTC.
  local as_local = os.time(fields --[[@as osdateparam]])
  local back = os.date("!*t", as_local) --[[@as osdateparam]]
  back.isdst = false
  return as_local + (as_local - os.time(back))
end

---A wait as people say it: 12 s, 4 min 10 s, 7 h 12 min.
---@param seconds number
---@return string
function M.duration(seconds)
  seconds = math.max(0, math.floor(seconds + 0.5))
  if seconds < 60 then
    return ("%d s"):format(seconds)
  elseif seconds < 3600 then
    local s = seconds % 60
    return ("%d min"):format(math.floor(seconds / 60)) .. (s > 0 and (" %d s"):format(s) or "")
  end
  return ("%d h %d min"):format(math.floor(seconds / 3600), math.floor(seconds % 3600 / 60))
end

---A moment in local time, with the day when it is not today.
---@param epoch integer
---@param now integer
---@return string
local function clock(epoch, now)
  local same_day = os.date("%Y%m%d", epoch) == os.date("%Y%m%d", now)
  return os.date(same_day and "%H:%M:%S" or "%a %d %b %H:%M", epoch) --[[@as string]]
end

local QUOTAS = { minute = "per-minute quota", day = "per-day quota" }

---What `rateLimit` means now: the text, and whether the limit still holds (nil: unknown).
---@param rl any `gemini/status`'s rateLimit (nil: none met)
---@param now? integer
---@return string text, boolean? active
function M.rate_limit(rl, now)
  if type(rl) ~= "table" then
    return "none met since the daemon started", false
  end
  now = now or os.time()
  local at, resets = M.parse_utc(rl.at), M.parse_utc(rl.resetsAt)
  local what = QUOTAS[rl.quota] or "rate limit (the API did not say which quota)"
  local model = type(rl.model) == "string" and (" of " .. rl.model) or ""
  local text = ("%s%s hit at %s"):format(what, model, at and clock(at, now) or "?")
  if not resets then
    return text .. "; the API did not say when it lifts", nil
  elseif resets > now then
    return ("%s; lifts in %s (%s)"):format(text, M.duration(resets - now), clock(resets, now)), true
  end
  return ("%s; lifted at %s"):format(text, clock(resets, now)), false
end

---The lines of `:GeminiChatStatus`.
---@param status table `gemini/status`'s result.
---@param s? gemini_chat.Session This workspace's chat.
---@return string[] lines, boolean warn
function M.lines(status, s)
  local usage = require("gemini_chat.usage")
  local model = s and s.model or status.model
  local lines = {
    ("gemini-chat-server %s · model %s · API key %s"):format(
      tostring(status.version),
      tostring(model),
      status.apiKeySet and "set" or "NOT set"
    ),
  }
  if s and s.cost then
    lines[#lines + 1] = "this conversation so far: " .. usage.money(s.cost)
  end
  local text, active = M.rate_limit(status.rateLimit)
  lines[#lines + 1] = "rate limit: " .. text
  return lines, active == true or not status.apiKeySet
end

---`:GeminiChatStatus`.
function M.command()
  local client = require("gemini_chat.client")
  local root = client.workspace_root()
  client.request(root, "gemini/status", vim.empty_dict(), function(err, status)
    if err then
      require("gemini_chat.errors").notify(err)
      return
    end
    local lines, warn = M.lines(status, require("gemini_chat.session").get(root))
    vim.notify("Gemini: " .. table.concat(lines, "\n"), warn and levels.WARN or levels.INFO)
  end)
end

return M
