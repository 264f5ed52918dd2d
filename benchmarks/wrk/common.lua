-- Shared by every scenario script (loaded with dofile by each; wrk gives every thread its own
-- Lua state). The harness runs wrk with as many threads as connections (-t C -c C), so each
-- thread drives exactly one keep-alive connection and sees its requests and responses strictly
-- in turn: a script may keep per-connection state (the newest refresh token of a grant, a
-- cookie, the step of a sign-in) between request() and response().
--
-- A scenario script defines:
--   next_request()                       -> the raw request to send (use wrk.format)
--   check(status, headers, body)         -> ok, op_done   (was the answer right; did it finish an
--                                            operation: a token, a sign-in, …)
-- and optionally thread_init() (in each thread) and thread_report(thread) / report_extra(out)
-- (in the main state, after the run).
--
-- Environment: BENCH_OUT (where done() writes its JSON line), BENCH_CONNECTIONS.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock_id, bench_timespec *tp);
]]
local timespec = ffi.new("bench_timespec")

function monotonic()
  ffi.C.clock_gettime(1, timespec)  -- CLOCK_MONOTONIC
  return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) * 1e-9
end

function env(name, default)
  local value = os.getenv(name)
  if value == nil or value == "" then
    if default == nil then error("wrk script: " .. name .. " is not set") end
    return default
  end
  return value
end

function read_lines(path)
  local lines = {}
  for line in io.lines(path) do
    if line ~= "" then lines[#lines + 1] = line end
  end
  return lines
end

-- The lines of a file that belong to this thread: 1-based thread tid of n takes every n-th.
function my_slice(lines, tid, n)
  local mine = {}
  for i = tid, #lines, n do mine[#mine + 1] = lines[i] end
  return mine
end

function header(headers, name)
  local wanted = string.lower(name)
  for key, value in pairs(headers) do
    if string.lower(key) == wanted then return value end
  end
  return nil
end

function urlencode(s)
  return (string.gsub(s, "[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

-- base64, for HTTP Basic client authentication
local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
function base64(data)
  return ((data:gsub(".", function(x)
    local r, b = "", x:byte()
    for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and "1" or "0") end
    return r
  end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
    if #x < 6 then return "" end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
    return b64chars:sub(c + 1, c + 1)
  end) .. ({ "", "==", "=" })[#data % 3 + 1])
end

function basic_auth()
  return "Basic " .. base64(urlencode(env("BENCH_CLIENT_ID")) .. ":" .. urlencode(env("BENCH_CLIENT_SECRET")))
end

-- ---- per-thread bookkeeping ----------------------------------------------------------------
ops, bad, first_t, last_t, bad_sample = 0, 0, 0, 0, ""

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
  thread:set("tid", #threads)
  thread:set("nthreads", tonumber(env("BENCH_CONNECTIONS")))
end

function init(args)
  if thread_init then thread_init() end
end

function request()
  if first_t == 0 then first_t = monotonic() end
  return next_request()
end

function response(status, headers, body)
  last_t = monotonic()
  local ok, op_done = check(status, headers, body)
  if not ok then
    bad = bad + 1
    if bad_sample == "" then
      bad_sample = tostring(status) .. " " .. string.sub(body or "", 1, 200)
    end
  elseif op_done then
    ops = ops + 1
  end
end

local function json_string(s)
  return '"' .. string.gsub(s, '[%c"\\]', function(c) return string.format("\\u%04x", string.byte(c)) end) .. '"'
end

function done(summary, latency, requests)
  local total_ops, total_bad, t0, t1, sample = 0, 0, math.huge, 0, ""
  local fewest, most = math.huge, 0
  for _, thread in ipairs(threads) do
    local n = thread:get("ops")
    total_ops = total_ops + n
    if n < fewest then fewest = n end
    if n > most then most = n end
    total_bad = total_bad + thread:get("bad")
    local f, l = thread:get("first_t"), thread:get("last_t")
    if f > 0 and f < t0 then t0 = f end
    if l > t1 then t1 = l end
    if sample == "" then sample = thread:get("bad_sample") end
    if thread_report then thread_report(thread) end
  end
  local e = summary.errors
  local out = {
    string.format('"requests": %d', summary.requests),
    string.format('"ops": %d', total_ops),
    string.format('"duration": %.6f', (t1 > t0) and (t1 - t0) or (summary.duration / 1e6)),
    string.format('"wrk_duration": %.6f', summary.duration / 1e6),
    string.format('"p50_ms": %.3f', latency:percentile(50) / 1000),
    string.format('"p99_ms": %.3f', latency:percentile(99) / 1000),
    string.format('"max_ms": %.3f', latency.max / 1000),
    string.format('"mean_ms": %.3f', latency.mean / 1000),
    string.format('"bad": %d', total_bad),
    string.format('"socket_errors": %d', e.connect + e.read + e.write + e.timeout),
    string.format('"status_errors": %d', e.status),
    '"bad_sample": ' .. json_string(sample),
    -- How evenly the server served the connections: operations done by the least and the most
    -- served connection.
    string.format('"ops_fewest_connection": %d', fewest),
    string.format('"ops_most_connection": %d', most),
  }
  if report_extra then report_extra(out) end
  local file = assert(io.open(env("BENCH_OUT"), "w"))
  file:write("{" .. table.concat(out, ", ") .. "}\n")
  file:close()
end
