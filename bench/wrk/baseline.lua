-- Ceiling baseline: GET of a 200-byte static JSON file from nginx (see bench/nginx.conf.template).
-- Sends the same Authorization and Accept headers as the Zebros scenarios, so the request size
-- matches; nginx ignores them. Usage:
--   wrk -t2 -c32 -d20s --latency -s bench/wrk/baseline.lua http://127.0.0.1:PORT/contact.json
local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
common.install()

function init(args)
  common.thread_init(args)
  -- No request(): wrk then builds the request once and reuses it (the cheapest client path).
end
