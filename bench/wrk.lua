-- wrk script for bench/run.py: builds each request, counts answers by status, reports one line at the end.
--
-- Environment (set by run.py):
--   BENCH_METHOD  GET or PUT
--   BENCH_KEY     the X-Api-Key header's value (empty: no header, for the floor)
--   BENCH_TAG     a label unique to this run, put into every PUT's name
--
-- Every PUT is a real change: its name and both settings hold a value never sent before (the tag, the thread's
-- number and a counter), so the service must write each one and count it in the system's version.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("thread_id", #threads)
end

function init(args)
   method = os.getenv("BENCH_METHOD") or "GET"
   tag = os.getenv("BENCH_TAG") or "bench"
   headers = {["Accept"] = "application/json"}
   local key = os.getenv("BENCH_KEY") or ""
   if key ~= "" then
      headers["X-Api-Key"] = key
   end
   if method == "PUT" then
      headers["Content-Type"] = "application/json"
   else
      fixed_request = wrk.format("GET", nil, headers)
   end
   -- Globals, so that done() can read them from each thread with thread:get.
   sent, ok, non2xx = 0, 0, 0
end

function request()
   sent = sent + 1
   if fixed_request then
      return fixed_request
   end
   local n = string.format("%s-t%d-%d", tag, thread_id, sent)
   local body = string.format(
      '{"name": "Bench %s", "settingValues": {' ..
      '"1": {"stringValue": "ldap://dc-%s.example.com:389"}, ' ..
      '"2": {"stringValue": "CN=svc-%s,OU=Service,DC=example,DC=com"}}}',
      n, n, n)
   return wrk.format("PUT", nil, headers, body)
end

function response(status, headers, body)
   if status >= 200 and status < 300 then
      ok = ok + 1
   else
      non2xx = non2xx + 1
   end
end

function done(summary, latency, requests)
   local sent_total, ok_total, non2xx_total = 0, 0, 0
   for _, thread in ipairs(threads) do
      sent_total = sent_total + thread:get("sent")
      ok_total = ok_total + thread:get("ok")
      non2xx_total = non2xx_total + thread:get("non2xx")
   end
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%d duration_us=%d sent=%d ok=%d non2xx=%d " ..
      "p50_us=%d p99_us=%d max_us=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d\n",
      summary.requests, summary.duration, sent_total, ok_total, non2xx_total,
      latency:percentile(50), latency:percentile(99), latency.max,
      e.connect, e.read, e.write, e.timeout))
end
