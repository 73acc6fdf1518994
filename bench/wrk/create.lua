-- POST /api/v1/contacts: one durable single-record create per request (the server acknowledges
-- only after the commit). Every request carries a unique e-mail (e-mail is unique per tenant):
-- bench.<run nonce>.<thread>.<counter>@load-test.example. The nonce is BENCH_NONCE or, if unset,
-- the start time plus random bytes, so repeated runs against one data dir never collide. Usage:
--   ZEBROS_KEY=... BENCH_NONCE=run1 \
--   wrk -t2 -c32 -d20s --latency -s bench/wrk/create.lua http://127.0.0.1:PORT
local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
common.install()

local firsts = { "Anna", "Lukas", "Sofia", "James", "Chloé", "Mateo", "Aarav", "Yui", "Omar", "Elif" }
local lasts = { "Schmidt", "Smith", "Dubois", "García", "Rossi", "Nowak", "Patel", "Tanaka", "Haddad",
  "Yılmaz", "Okafor", "Silva", "Jansen", "Berg", "Kim", "Wang", "Moreau", "Fischer", "Lopez", "Kelly" }
local stages = { "subscriber", "lead", "lead", "marketing_qualified", "customer" }
local places = { '"mailing_city":"Berlin","mailing_country":"DE"', '"mailing_city":"Austin","mailing_country":"US"',
  '"mailing_city":"Lyon","mailing_country":"FR"', '"mailing_city":"Leeds","mailing_country":"GB"' }

local headers, prefix, counter

function init(args)
  common.thread_init(args)
  headers = common.headers({ ["Content-Type"] = "application/json" })
  local run = common.opt(args, "nonce", nil, nonce) -- `nonce` is set by setup()
  prefix = "bench." .. tostring(run):gsub("[^%w]", "") .. "." .. tostring(tid or 0) .. "."
  counter = 0
end

function request()
  counter = counter + 1
  local c = counter
  local body = '{"first_name":"' .. firsts[c % #firsts + 1] .. '","last_name":"' ..
    lasts[c % #lasts + 1] .. '","email":"' .. prefix .. c .. '@load-test.example",' ..
    '"title":"Load Tester","department":"Engineering","lifecycle_stage":"' ..
    stages[c % #stages + 1] .. '",' .. places[c % #places + 1] ..
    ',"tags":["load-test"],"do_not_email":true}'
  return wrk.format("POST", "/api/v1/contacts", headers, body)
end
