-- POST /api/v1/contacts/search {"q":TERM,"limit":20}: full-text search with prefix matching on
-- the last term. Rotates over bench/out/search_terms.txt (written by bench/seed.py from the
-- seeded names: whole last/first names, "first last" pairs, 3-5 letter prefixes). Usage:
--   ZEBROS_KEY=... BENCH_TERMS=bench/out/search_terms.txt \
--   wrk -t2 -c32 -d20s --latency -s bench/wrk/search.lua http://127.0.0.1:PORT
local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
common.install()

local requests, n, i

function init(args)
  common.thread_init(args)
  local terms = common.read_lines(
    common.opt(args, "terms", "BENCH_TERMS", "bench/out/search_terms.txt"), "search terms")
  local limit = common.opt(args, "limit", "BENCH_SEARCH_LIMIT", "20")
  local headers = common.headers({ ["Content-Type"] = "application/json" })
  requests = {}
  for k, term in ipairs(terms) do
    local body = '{"q":' .. common.json_string(term) .. ',"limit":' .. limit .. '}'
    requests[k] = wrk.format("POST", "/api/v1/contacts/search", headers, body)
  end
  n = #requests
  i = ((tid or 0) * 7919) % n
end

function request()
  i = i + 1
  if i > n then i = 1 end
  return requests[i]
end
