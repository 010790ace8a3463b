-- wrk script: each wrk thread is one open dashboard tab on one keep-alive connection
-- (run with as many threads as connections). A tab sends what frontend/src polls on
-- its page, back to back, then waits out the rest of its 3 s poll interval; even
-- threads show the fleet page, odd ones a device page of a random device.
--
--   wrk -t50 -c50 -d60s -s bench/dashboard_tabs.lua http://127.0.0.1:8000 -- DEVICES PREFIX PAGED POLL_MS
--
-- DEVICES and PREFIX name the seeded fleet (PREFIX-00001 ..), PAGED 1 asks for the
-- device list and fleet stats a page at a time and polls the fleet summary and (every
-- third round, about its 10 s) the header's ingest rate, as the paged dashboard does; POLL_MS 0
-- sends without waiting (the saturation run). done() prints one JSON line.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } timespec;
  int clock_gettime(int clock_id, timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local now_ts = ffi.new("timespec")

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, now_ts)
  return tonumber(now_ts.tv_sec) * 1000 + tonumber(now_ts.tv_nsec) / 1e6
end

local counter = 0

function setup(thread)
  thread:set("tab", counter)
  counter = counter + 1
end

local paths, index, cycle_started, cycle_ms, poll_ms
local every_round, third_round, round = nil, nil, 0

-- Every page: the health indicator and the header's count of open critical alarms.
local function common()
  return { "/api/health/", "/api/alerts/?limit=100&status=ACTIVE&acknowledged=false&severity=critical" }
end

local function fleet_page(paged)
  local page = common()
  if paged then
    table.insert(page, "/api/devices/?limit=50")
    table.insert(page, "/api/stats/fleet/?window=5m&limit=50")
    table.insert(page, "/api/stats/summary/")
  else
    table.insert(page, "/api/devices/")
    table.insert(page, "/api/stats/fleet/?window=5m")
  end
  return page
end

local function device_page(id)
  local page = common()
  for _, path in ipairs({
    "/api/devices/" .. id .. "/",
    "/api/stats/avg/?deviceId=" .. id .. "&window=5m",
    "/api/telemetry/series/?deviceId=" .. id .. "&window=5m&points=300",
    "/api/alerts/?limit=50&deviceId=" .. id .. "&status=ACTIVE",
    "/api/alerts/?limit=10&deviceId=" .. id,
    "/api/rejections/?deviceId=" .. id .. "&limit=20",
  }) do
    table.insert(page, path)
  end
  return page
end

function init(args)
  local devices, prefix = tonumber(args[1]), args[2]
  local paged = args[3] == "1"
  poll_ms = tonumber(args[4])
  math.randomseed(tab * 7919 + 1)
  if tab % 2 == 0 then
    every_round = fleet_page(paged)
  else
    every_round = device_page(string.format("%s-%05d", prefix, math.random(1, devices)))
  end
  third_round = every_round
  if paged then
    third_round = { unpack(every_round) }
    table.insert(third_round, "/api/stats/ingest-rate/")
  end
  paths = third_round
  index = 0
  cycle_started = now_ms()
  -- Tabs opened over one poll interval, not all in the same millisecond.
  cycle_ms = math.random() * poll_ms
end

function request()
  index = index + 1
  if index > #paths then
    index = 1
    round = round + 1
    paths = (round % 3 == 0) and third_round or every_round
    cycle_started = now_ms()
    cycle_ms = poll_ms
  end
  return wrk.format("GET", paths[index], { ["Accept-Encoding"] = "gzip" })
end

function delay()
  if index < #paths then
    return 0
  end
  return math.max(0, cycle_ms - (now_ms() - cycle_started))
end

function done(summary, latency, requests)
  local errors = summary.errors
  local failed = errors.connect + errors.read + errors.write + errors.status + errors.timeout
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "errors": %d, "non_2xx": %d, "timeouts": %d, '
      .. '"p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f}\n',
    summary.requests, summary.duration / 1e6, failed, errors.status, errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end
