-- wrk script of the Satu Pintu Hub benchmark (bench/load.py runs it).
--
--   wrk -t1 -c10 -d15s --latency -H 'Authorization: Bearer …' -H 'X-Purpose: …' \
--       -s bench/graphql.lua http://127.0.0.1:PORT/graphql -- BODIES METHOD PATH
--
-- BODIES is a file of request bodies, one JSON document per line, sent in rotation (each
-- connection thread starts at a different line); "-" sends no body. The text __UNIQUE__ in a
-- body is replaced by a value never sent before in this run (fresh idempotency keys).
-- Every response is checked: a status outside 2xx, or a body holding a non-empty "errors"
-- list (GraphQL errors, or a mutation payload's coded errors), counts as an error, and the
-- first such body is kept for the report. `done` prints one line: BENCH_RESULT {json}.

local threads = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  bodies = {}
  method = args[2] or "POST"
  path = args[3] or "/graphql"
  if args[1] ~= nil and args[1] ~= "-" then
    for line in io.lines(args[1]) do
      if #line > 0 then
        table.insert(bodies, line)
      end
    end
  end
  unique = {}
  for i, body in ipairs(bodies) do
    unique[i] = string.find(body, "__UNIQUE__", 1, true) ~= nil
  end
  next_body = ((thread_id or 1) * 7919) % math.max(#bodies, 1) + 1
  sent = 0
  responses = 0
  non_2xx = 0
  graphql_errors = 0
  first_error = ""
  nonce = tostring(os.time()) .. "-" .. tostring(thread_id or 1)
end

function request()
  sent = sent + 1
  if #bodies == 0 then
    return wrk.format(method, path)
  end
  local body = bodies[next_body]
  if unique[next_body] then
    body = string.gsub(body, "__UNIQUE__", nonce .. "-" .. sent)
  end
  next_body = next_body % #bodies + 1
  return wrk.format(method, path, nil, body)
end

function response(status, headers, body)
  responses = responses + 1
  local failed = false
  if status < 200 or status > 299 then
    non_2xx = non_2xx + 1
    failed = true
  elseif body ~= nil and string.find(body, '"errors"%s*:%s*%[%s*{') then
    graphql_errors = graphql_errors + 1
    failed = true
  end
  if failed and first_error == "" then
    first_error = tostring(status) .. " " .. string.sub(body or "", 1, 400)
  end
end

local function quote(s)
  s = string.gsub(s, '[%c"\\]', function(c)
    return string.format("\\u%04x", string.byte(c))
  end)
  return '"' .. s .. '"'
end

function done(summary, latency, requests)
  local total_responses, total_non_2xx, total_graphql_errors = 0, 0, 0
  local sample = ""
  for _, thread in ipairs(threads) do
    total_responses = total_responses + (thread:get("responses") or 0)
    total_non_2xx = total_non_2xx + (thread:get("non_2xx") or 0)
    total_graphql_errors = total_graphql_errors + (thread:get("graphql_errors") or 0)
    if sample == "" then
      sample = thread:get("first_error") or ""
    end
  end
  local e = summary.errors
  local parts = {
    string.format('"requests":%d', summary.requests),
    string.format('"duration_us":%d', summary.duration),
    string.format('"bytes":%d', summary.bytes),
    string.format('"responses_checked":%d', total_responses),
    string.format('"non_2xx":%d', total_non_2xx),
    string.format('"graphql_errors":%d', total_graphql_errors),
    string.format('"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d}',
      e.connect, e.read, e.write, e.timeout),
    string.format('"latency_us":{"min":%d,"mean":%.1f,"max":%d,"stdev":%.1f,'
      .. '"p50":%d,"p90":%d,"p95":%d,"p99":%d,"p999":%d}',
      latency.min, latency.mean, latency.max, latency.stdev,
      latency:percentile(50), latency:percentile(90), latency:percentile(95),
      latency:percentile(99), latency:percentile(99.9)),
    '"first_error":' .. quote(sample),
  }
  io.write("BENCH_RESULT {" .. table.concat(parts, ",") .. "}\n")
end
