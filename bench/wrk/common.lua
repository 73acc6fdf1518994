-- Shared helpers for the Zebros benchmark scenarios (wrk 4.x, LuaJIT).
--
-- A scenario script loads this file with
--   local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
-- and calls common.install(). That defines the global setup() and done(): setup() numbers the
-- threads and hands each the run nonce; done() prints one JSON line prefixed with "@@WRK_JSON "
-- (requests/s, latency percentiles in ms, error counts) which bench/report.py reads.
--
-- Options come from the environment or from script arguments after "--" (key=value, which win):
--   ZEBROS_KEY / key=...          API key sent as "Authorization: Bearer KEY"
--   BENCH_IDS / ids=...           ids file (get_by_id)
--   BENCH_TERMS / terms=...       search terms file (search)
--   BENCH_NONCE / nonce=...       makes create.lua's e-mails unique across runs
--   BENCH_STATUS_DETAIL=1         count every non-2xx status code (slower: wrk then hands each
--                                 response to Lua); otherwise only wrk's own count of >= 400
--   BENCH_SCENARIO                a name copied into the JSON line

local M = {}

local threads = {}

-- Parses "key=value" script arguments into a table.
local function parse_args(args)
  local t = {}
  for _, a in ipairs(args or {}) do
    local k, v = a:match("^([%w_]+)=(.*)$")
    if k then t[k] = v end
  end
  return t
end

-- The value of option `name` (script argument) or `env` (environment), or `default`.
function M.opt(args, name, env, default)
  local a = parse_args(args)
  if a[name] ~= nil and a[name] ~= "" then return a[name] end
  local e = env and os.getenv(env)
  if e ~= nil and e ~= "" then return e end
  return default
end

-- Reads the non-empty lines of a file; raises a clear error when it is missing or empty.
function M.read_lines(path, what)
  local f, err = io.open(path, "r")
  if not f then error(what .. ": cannot open " .. tostring(path) .. ": " .. tostring(err)) end
  local lines = {}
  for line in f:lines() do
    line = line:gsub("%s+$", "")
    if line ~= "" then lines[#lines + 1] = line end
  end
  f:close()
  if #lines == 0 then error(what .. ": " .. path .. " is empty") end
  return lines
end

-- A JSON string literal (the input is UTF-8 already).
function M.json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    local map = { ['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }
    return map[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

-- Per thread: sets the Authorization header (when a key is given) and, if asked, installs a
-- response() that counts non-2xx statuses. Call from init(args).
function M.thread_init(args)
  local key = M.opt(args, "key", "ZEBROS_KEY", nil)
  if key then wrk.headers["Authorization"] = "Bearer " .. key end
  wrk.headers["Accept"] = "application/json"
  -- BENCH_FRESH=1: every list or search page is read afresh, never answered from the page cache.
  if os.getenv("BENCH_FRESH") == "1" then wrk.headers["Cache-Control"] = "no-cache" end
  if os.getenv("BENCH_STATUS_DETAIL") == "1" then
    status_counts = {}
    response = function(status, headers, body)
      if status < 200 or status > 299 then
        local k = tostring(status)
        status_counts[k] = (status_counts[k] or 0) + 1
      end
    end
  end
end

-- A copy of wrk.headers (Authorization, Accept, Host) plus `extra`. wrk.format() uses the table
-- it is given *instead of* wrk.headers, so requests with their own headers must start from this.
function M.headers(extra)
  local h = {}
  for k, v in pairs(wrk.headers) do h[k] = v end
  for k, v in pairs(extra or {}) do h[k] = v end
  return h
end

local function read_urandom_hex(n)
  local f = io.open("/dev/urandom", "rb")
  if not f then return tostring(math.floor(os.clock() * 1e6)) end
  local bytes = f:read(n)
  f:close()
  return (bytes:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

-- Minimal JSON encoder for the report (numbers, strings, booleans, nested tables).
local function encode(v)
  local t = type(v)
  if t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return "null" end
    if v == math.floor(v) and math.abs(v) < 1e15 then return string.format("%d", v) end
    return string.format("%.4f", v)
  elseif t == "string" then
    return M.json_string(v)
  elseif t == "boolean" then
    return tostring(v)
  elseif t == "table" then
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    local parts = {}
    for _, k in ipairs(keys) do parts[#parts + 1] = M.json_string(k) .. ":" .. encode(v[k]) end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  return "null"
end
M.encode = encode

function M.install()
  local nonce = os.getenv("BENCH_NONCE")
  if nonce == nil or nonce == "" then nonce = os.time() .. "-" .. read_urandom_hex(4) end

  setup = function(thread)
    thread:set("tid", #threads)
    thread:set("nonce", nonce)
    threads[#threads + 1] = thread
  end

  done = function(summary, latency, requests)
    local secs = summary.duration / 1e6
    local e = summary.errors
    local statuses = {}
    local detailed = false
    for _, t in ipairs(threads) do
      local sc = t:get("status_counts")
      if type(sc) == "table" then
        detailed = true
        for k, n in pairs(sc) do statuses[k] = (statuses[k] or 0) + n end
      end
    end
    local function ms(p) return latency:percentile(p) / 1000.0 end
    local out = {
      scenario = os.getenv("BENCH_SCENARIO") or "",
      requests = summary.requests,
      duration_s = secs,
      rps = secs > 0 and summary.requests / secs or 0,
      bytes = summary.bytes,
      transfer_mb_s = secs > 0 and summary.bytes / secs / 1e6 or 0,
      latency_ms = {
        p50 = ms(50), p75 = ms(75), p90 = ms(90), p99 = ms(99), p999 = ms(99.9),
        mean = latency.mean / 1000.0, stdev = latency.stdev / 1000.0,
        min = latency.min / 1000.0, max = latency.max / 1000.0,
      },
      errors = {
        connect = e.connect, read = e.read, write = e.write, timeout = e.timeout,
        status = e.status, -- wrk: responses with status > 399
      },
      non_2xx = e.status,
      threads = #threads,
      nonce = nonce,
    }
    if detailed then
      local n = 0
      for _, c in pairs(statuses) do n = n + c end
      out.non_2xx = n
      out.status_counts = statuses
    end
    io.write("@@WRK_JSON " .. encode(out) .. "\n")
  end
end

return M
