-- wrk script: a bodiless POST (the minimal insert-and-commit endpoint), answers counted.
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) c201, cother = 0, 0 end
wrk.method = "POST"
function response(status, headers, body)
  if status == 201 then c201 = c201 + 1 else cother = cother + 1 end
end
function done(summary, latency, requests)
  local a, c = 0, 0
  for _, t in ipairs(threads) do a = a + t:get("c201"); c = c + t:get("cother") end
  io.write(string.format("STATUS 201=%d other=%d\n", a, c))
end
