-- wrk script for bench/soak.sh: rotates over the paths given after `--`, counts answers that
-- are not 2xx, and prints one SOAK line with the totals when the run ends.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  paths = args
  next_path = 0
  non2xx = 0
end

function request()
  next_path = next_path % #paths + 1
  return wrk.format("GET", paths[next_path])
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local non2xx = 0
  for _, thread in ipairs(threads) do
    non2xx = non2xx + thread:get("non2xx")
  end
  local e = summary.errors
  io.write(string.format(
    "SOAK requests=%d seconds=%.1f rps=%.0f non2xx=%d connect=%d read=%d write=%d timeout=%d " ..
    "p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    non2xx, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
