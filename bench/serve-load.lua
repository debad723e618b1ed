-- wrk script for bench/serve.sh: POST one file's bytes with a Content-Type (or, without arguments, GET the URL), and
-- count every status code across threads.
-- Usage: wrk -s serve-load.lua URL [-- FILE CONTENT-TYPE]
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  if args[1] == nil or args[1] == "" then
    return
  end
  local file = assert(io.open(args[1], "rb"))
  wrk.method = "POST"
  wrk.body = file:read("*a")
  file:close()
  wrk.headers["Content-Type"] = args[2]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      totals[status] = (totals[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(totals) do
    table.insert(parts, status .. "=" .. count)
  end
  table.sort(parts)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d req/s=%.0f p50_ms=%.2f p99_ms=%.2f statuses=%s socket_errors=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    table.concat(parts, ","), e.connect + e.read + e.write + e.timeout))
end
