-- The bench's wrk script (driven by bench/load.py; see there for why wrk).
--
-- Arguments after `--`: <window seconds> <pool file> <header name> <method> <body> (any
-- but the first may be ""):
--   window: requests are sent for this long, then no new one is started; the requests in
--           flight finish before wrk's own duration ends (the drain), so every request sent
--           is answered and "rows stored = 200s answered" can be checked exactly.
--   pool:   one request per line, "<header value>\t<body>", each POSTed once (signed
--           webhook bodies pre-generated in Python: wrk's LuaJIT has no HMAC). Without a
--           pool every request is the same: <method> (default GET) to the URL, with wrk's
--           -H headers and <body> as JSON when given.
-- `done` prints one line, "BENCH_RESULT <json>", that load.py reads.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec_t;
int clock_gettime(int clk_id, bench_timespec_t *tp);
]]
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("bench_timespec_t")

local function now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) * 1e-9
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local window = tonumber(args[1])
  pool = {}
  if args[2] ~= "" then
    for line in io.lines(args[2]) do
      local value, body = line:match("^([^\t]*)\t(.*)$")
      local headers = { ["Content-Type"] = "application/json", [args[3]] = value }
      pool[#pool + 1] = wrk.format("POST", nil, headers, body)
    end
  else
    pool = nil
    if args[4] ~= "" then
      wrk.method = args[4]
    end
    if args[5] ~= "" then
      wrk.body = args[5]
      wrk.headers["Content-Type"] = "application/json"
    end
    plain = wrk.format()
    -- Nothing to drain for reads: without delay() wrk sends back to back.
    delay = nil
  end
  stop_at = now() + window
  next_index = 1
  sent, ok, failed, in_window, exhausted = 0, 0, 0, 0, 0
end

function delay()
  -- Called before every request but a connection's first: past the window (or the pool's
  -- end) the connection waits out wrk's duration instead of sending.
  if now() >= stop_at then
    return 3600000
  end
  if pool and next_index > #pool then
    exhausted = 1
    return 3600000
  end
  return 0
end

function request()
  sent = sent + 1
  if pool then
    local req = pool[next_index]
    next_index = next_index + 1
    if req == nil then
      -- A reconnected socket's first request skips delay(): never reuse a body.
      exhausted = 1
      return wrk.format("GET")
    end
    return req
  end
  return plain
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  else
    failed = failed + 1
  end
  if now() < stop_at then
    in_window = in_window + 1
  end
end

function done(summary, latency, requests)
  local total = { sent = 0, ok = 0, failed = 0, in_window = 0, exhausted = 0 }
  for _, thread in ipairs(threads) do
    for key, _ in pairs(total) do
      total[key] = total[key] + thread:get(key)
    end
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"sent":%d,"ok":%d,"failed":%d,"in_window":%d,"exhausted":%d,' ..
    '"completed":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    total.sent, total.ok, total.failed, total.in_window, total.exhausted,
    summary.requests, latency:percentile(50), latency:percentile(99), latency.max, latency.mean,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout))
end
