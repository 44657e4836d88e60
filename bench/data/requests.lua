-- wrk script for bench/data/run.sh: every request is a GET of a path drawn at random from
-- ROUNDS_PATHS (one per line), signed with a bearer token drawn at random from ROUNDS_TOKENS (one
-- per line), so load spreads over many spaces and many users' sessions. done() writes the counts
-- and latency percentiles (microseconds) as JSON to ROUNDS_WRK_OUT.
local requests = {}

function init(args)
  local paths, tokens = {}, {}
  for line in io.lines(os.getenv("ROUNDS_PATHS")) do paths[#paths + 1] = line end
  for line in io.lines(os.getenv("ROUNDS_TOKENS")) do tokens[#tokens + 1] = line end
  -- Every (path, token) pair formatted once; request() only picks one.
  for _, path in ipairs(paths) do
    for _, token in ipairs(tokens) do
      requests[#requests + 1] = wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
    end
  end
  -- Each wrk thread has its own Lua state: seed from the table's address so threads differ.
  math.randomseed(os.time() + (tonumber(tostring(requests):match("0x(%x+)") or "0", 16) % 1000003))
end

function request()
  return requests[math.random(#requests)]
end

function done(summary, latency, _)
  local out = io.open(os.getenv("ROUNDS_WRK_OUT"), "w")
  out:write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"max":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status,
    summary.errors.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
  out:close()
end
