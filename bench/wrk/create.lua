-- POST /api/v1/contacts: one durable single-record create per request (the server acknowledges
-- only after the commit). The bodies come from BENCH_CREATE_BODIES (create_bodies.txt, written by
-- bench/seed.py): contacts drawn like the seeded ones, so the contacts a run adds do not skew the
-- names, stages and countries that later lists and searches meet. Every request carries a unique
-- e-mail (unique per tenant): firstname.lastname.N.<thread>.<counter>@<nonce>.load-test.example,
-- N the record's seed index. The nonce is BENCH_NONCE or, if unset, the start time plus random
-- bytes, so repeated runs against one data dir never collide. Without create_bodies.txt: the
-- bodies of earlier runs (10 first names x 20 last names, 4 countries, one title), e-mail
-- bench.<nonce>.<thread>.<counter>@load-test.example. Usage:
--   ZEBROS_KEY=... BENCH_NONCE=run1 BENCH_CREATE_BODIES=DIR.seed/create_bodies.txt \
--   wrk -t2 -c32 -d20s --latency -s bench/wrk/create.lua http://127.0.0.1:PORT
local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
common.install()

local firsts = { "Anna", "Lukas", "Sofia", "James", "Chloé", "Mateo", "Aarav", "Yui", "Omar", "Elif" }
local lasts = { "Schmidt", "Smith", "Dubois", "García", "Rossi", "Nowak", "Patel", "Tanaka", "Haddad",
  "Yılmaz", "Okafor", "Silva", "Jansen", "Berg", "Kim", "Wang", "Moreau", "Fischer", "Lopez", "Kelly" }
local stages = { "subscriber", "lead", "lead", "marketing_qualified", "customer" }
local places = { '"mailing_city":"Berlin","mailing_country":"DE"', '"mailing_city":"Austin","mailing_country":"US"',
  '"mailing_city":"Lyon","mailing_country":"FR"', '"mailing_city":"Leeds","mailing_country":"GB"' }

local headers, prefix, counter, bodies, offset, thread_tag, domain

function init(args)
  common.thread_init(args)
  headers = common.headers({ ["Content-Type"] = "application/json" })
  local run = common.opt(args, "nonce", nil, nonce) -- `nonce` is set by setup()
  prefix = "bench." .. tostring(run):gsub("[^%w]", "") .. "." .. tostring(tid or 0) .. "."
  thread_tag = tostring(tid or 0) .. "."
  domain = tostring(run):gsub("[^%w]", ""):lower():sub(1, 60) .. ".load-test.example"
  counter = 0
  local path = common.opt(args, "bodies", "BENCH_CREATE_BODIES", nil)
  if path and path ~= "" then
    bodies = common.read_lines(path, "create bodies")
    offset = ((tid or 0) * 7919) % #bodies  -- threads start at different bodies
  end
end

function request()
  counter = counter + 1
  local c = counter
  if bodies then
    -- firstname.lastname.N.<thread>.<counter>@<nonce>.load-test.example: the local part stays
    -- under the 64 characters an address allows.
    local body = bodies[(offset + c) % #bodies + 1]:gsub('("email":"[^"@]*)@[^"]*"',
      "%1." .. thread_tag .. c .. "@" .. domain .. '"', 1)
    return wrk.format("POST", "/api/v1/contacts", headers, body)
  end
  local body = '{"first_name":"' .. firsts[c % #firsts + 1] .. '","last_name":"' ..
    lasts[c % #lasts + 1] .. '","email":"' .. prefix .. c .. '@load-test.example",' ..
    '"title":"Load Tester","department":"Engineering","lifecycle_stage":"' ..
    stages[c % #stages + 1] .. '",' .. places[c % #places + 1] ..
    ',"tags":["load-test"],"do_not_email":true}'
  return wrk.format("POST", "/api/v1/contacts", headers, body)
end
