-- wrk script for bench/reaction_bench.py: each request gives the next (embed token, comment)
-- pair its "Sterk" (POST /api/v1/comments/<id>/reactions, Authorization: Bearer), and counts
-- the answers. A thread stops once every one of its pairs has had its first answer, so no
-- first reaction is left in flight when wrk ends and "rows == 201 answers" is exact.
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  nthreads = tonumber(args[2])
  c201, c200, cother = 0, 0, 0
  entries = {}
  local n = 0
  for line in io.lines(args[1]) do
    n = n + 1
    if (n - 1) % nthreads == tid then
      local token, comment = line:match("^(%S+)\t(%S+)$")
      table.insert(entries, { token, comment })
    end
  end
  idx = 0
end

function request()
  idx = idx + 1
  local e = entries[((idx - 1) % #entries) + 1]
  return wrk.format("POST", "/api/v1/comments/" .. e[2] .. "/reactions", {
    ["Authorization"] = "Bearer " .. e[1],
  })
end

function response(status, headers, body)
  if status == 201 then c201 = c201 + 1
  elseif status == 200 then c200 = c200 + 1
  else cother = cother + 1 end
  if c201 + cother >= #entries then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local a, b, c = 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("c201"); b = b + t:get("c200"); c = c + t:get("cother")
  end
  io.write(string.format("STATUS 201=%d 200=%d other=%d\n", a, b, c))
end
