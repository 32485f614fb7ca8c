-- wrk script: POST GraphQL bodies round-robin, each with its own bearer token.
-- BENCH_REQUESTS names a file of lines "<token>\t<json body>" (written by bench/load.py).
-- response() counts failed answers (HTTP status other than 200, or a GraphQL "errors" member: an upstream
-- timeout answered with HTTP 200 is still a failure); done() prints one JSON line with the counts and the
-- latency percentiles (microseconds).

local path = os.getenv("BENCH_REQUESTS")
local requests = {}
local counter = 0
failed = 0
local threads = {}

function setup(thread)
  thread:set("offset", #threads * 7)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(path) do
    local token, body = line:match("^([^\t]*)\t(.*)$")
    local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }
    table.insert(requests, wrk.format("POST", "/graphql", headers, body))
  end
  counter = tonumber(wrk.thread:get("offset")) or 0
end

function request()
  counter = counter + 1
  return requests[(counter % #requests) + 1]
end

function response(status, headers, body)
  if status ~= 200 or body:find('"errors"', 1, true) then
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local answers_failed = 0
  for _, thread in ipairs(threads) do
    answers_failed = answers_failed + (tonumber(thread:get("failed")) or 0)
  end
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "failed": %d, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"mean": %.1f, "p50": %d, "p90": %d, "p99": %d, "max": %d}}\n',
    summary.requests, summary.duration, summary.bytes, answers_failed, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
