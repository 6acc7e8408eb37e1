-- wrk script for bench/vote_bench.py --ratings: each request rates a line-up with the next voter token
-- (the third column: the JSON body, a full rating set) from its own client IP (X-Forwarded-For, one trusted proxy), and counts the answers.
-- A thread stops once every one of its tokens has had its first answer (201, or an error), so
-- no first vote is left in flight when wrk ends and "ballot rows == 201 answers" is exact.
-- Requests that wrap around to an already used token can only get 200 (no new row).
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  path = args[1]
  origin = args[2]
  nthreads = tonumber(args[4])
  c201, c200, cother = 0, 0, 0
  entries = {}
  local n = 0
  for line in io.lines(args[3]) do
    n = n + 1
    if (n - 1) % nthreads == tid then
      local token, ip, body = line:match("^(%S+)\t(%S+)\t(%S+)$")
      table.insert(entries, { token, ip, body })
    end
  end
  idx = 0
end

function request()
  idx = idx + 1
  local e = entries[((idx - 1) % #entries) + 1]
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/json",
    ["Origin"] = origin,
    ["X-Tribune-Voter-Token"] = e[1],
    ["X-Forwarded-For"] = e[2],
  }, e[3])
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
