-- The load generator of `make bench` (bench/run.py `load()`), for Debian's wrk 4.x:
--   BENCH_METHOD, BENCH_PATH     the request
--   BENCH_BODY                   body; every "@N@" becomes the request's number (unique per run)
--   BENCH_HEADERS                "Name: value" lines; "@N@" as in the body
--   BENCH_OK                     statuses that count as success, comma-separated (e.g. "201")
-- wrk runs for its -d duration (a thread told to stop early leaves wrk sleeping out the duration,
-- so runs are timed, not counted). done() prints one JSON line: requests, good answers, errors (any status outside BENCH_OK, and
-- socket errors and timeouts), duration and the latency percentiles in microseconds.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH") or "/"
local body_template = os.getenv("BENCH_BODY") or ""
local header_lines = os.getenv("BENCH_HEADERS") or ""
local ok = {}
for code in string.gmatch(os.getenv("BENCH_OK") or "200", "%d+") do
  ok[tonumber(code)] = true
end

local templates = {}
for line in string.gmatch(header_lines, "[^\n]+") do
  local name, value = string.match(line, "^([^:]+):%s*(.*)$")
  if name then
    templates[name] = value
  end
end

answered = 0
bad = 0

function init(args)
end

function request()
  counter = counter + 1
  local n = tostring(id * 100000000 + counter)
  local headers = {}
  for name, value in pairs(templates) do
    headers[name] = string.gsub(value, "@N@", n)
  end
  local body = nil
  if body_template ~= "" then
    body = string.gsub(body_template, "@N@", n)
  end
  return wrk.format(method, path, headers, body)
end

function response(status, headers, body)
  answered = answered + 1
  if not ok[status] then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local bad_total = 0
  local answered_total = 0
  for _, t in ipairs(threads) do
    bad_total = bad_total + t:get("bad")
    answered_total = answered_total + t:get("answered")
  end
  local e = summary.errors
  local socket_errors = e.connect + e.read + e.write + e.timeout
  io.write(string.format(
    '{"answered": %d, "good": %d, "errors": %d, "socket_errors": %d, "duration_us": %d, '
    .. '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
    answered_total, answered_total - bad_total, bad_total + socket_errors, socket_errors, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
