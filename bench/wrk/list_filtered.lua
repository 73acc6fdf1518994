-- GET /api/v1/contacts?filter[lifecycle_stage]=S&filter[mailing_country]=C&limit=50: a filtered
-- first page (newest first) over two indexed fields. Rotates over a few (stage, country) pairs
-- of similar selectivity (1-2.5% of the seeded contacts each; customer+DE first). The brackets
-- are percent-encoded, as RFC 3986 asks; BENCH_RAW_BRACKETS=1 sends them raw. Usage:
--   ZEBROS_KEY=... wrk -t2 -c32 -d20s --latency -s bench/wrk/list_filtered.lua http://127.0.0.1:PORT
local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
common.install()

-- Share of the seeded contacts each pair matches (bench/seed.py's weights), in %:
-- 1.45, 1.01, 1.69, 1.04, 2.42, 2.42, 1.30, 1.70.
local combos = {
  { "customer", "DE" }, { "customer", "FR" }, { "lead", "FR" }, { "marketing_qualified", "GB" },
  { "subscriber", "DE" }, { "lead", "DE" }, { "customer", "GB" }, { "opportunity", "US" },
}

local requests, n, i

function init(args)
  common.thread_init(args)
  local lb, rb = "%5B", "%5D"
  if os.getenv("BENCH_RAW_BRACKETS") == "1" then lb, rb = "[", "]" end
  local limit = common.opt(args, "limit", "BENCH_LIST_LIMIT", "50")
  requests = {}
  for k, c in ipairs(combos) do
    local path = "/api/v1/contacts?filter" .. lb .. "lifecycle_stage" .. rb .. "=" .. c[1] ..
      "&filter" .. lb .. "mailing_country" .. rb .. "=" .. c[2] .. "&limit=" .. limit
    requests[k] = wrk.format("GET", path)
  end
  n = #requests
  i = (tid or 0) % n
end

function request()
  i = i + 1
  if i > n then i = 1 end
  return requests[i]
end
