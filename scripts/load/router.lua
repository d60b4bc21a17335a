-- wrk script for `make load-router`: every request a new formula (unique name and material)
-- with its own Idempotency-Key, so the router does the full work of a first submission each
-- time; at the end, one JSON line with the figures the report needs.
local counter = 0
thread_id = 0 -- set per thread by setup()
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["content-type"] = "application/json"
end

function request()
  counter = counter + 1
  local key = string.format("router-%d-%d", thread_id, counter)
  wrk.headers["idempotency-key"] = key
  local body = string.format(
    '{"name":"Router %s","materials":[{"name":"Accord %s","concentration":12.5},' ..
    '{"name":"Bergamot Oil","concentration":3}]}', key, key)
  return wrk.format(nil, "/formulas", nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    '{"requests":%d,"seconds":%.3f,"rps":%.1f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,' ..
    '"max_ms":%.3f,"connect_errors":%d,"read_errors":%d,"write_errors":%d,' ..
    '"non_2xx":%d,"timeouts":%d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1e3, latency:percentile(90) / 1e3, latency:percentile(99) / 1e3,
    latency.max / 1e3, e.connect, e.read, e.write, e.status, e.timeout))
end
