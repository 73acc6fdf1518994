-- GET /api/v1/contacts/{id}: point reads by primary key over the sampled ids (bench/out/ids.txt,
-- written by bench/seed.py). Each thread walks the ids round-robin from its own offset; all
-- requests are built once in init(). Usage:
--   ZEBROS_KEY=... BENCH_IDS=bench/out/ids.txt \
--   wrk -t2 -c32 -d20s --latency -s bench/wrk/get_by_id.lua http://127.0.0.1:PORT
local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
common.install()

local requests, n, i

function init(args)
  common.thread_init(args)
  local ids = common.read_lines(common.opt(args, "ids", "BENCH_IDS", "bench/out/ids.txt"), "ids")
  requests = {}
  for k, id in ipairs(ids) do
    requests[k] = wrk.format("GET", "/api/v1/contacts/" .. id)
  end
  n = #requests
  i = ((tid or 0) * 7919) % n -- threads start at different places
end

function request()
  i = i + 1
  if i > n then i = 1 end
  return requests[i]
end
