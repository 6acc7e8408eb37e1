-- wrk script: GET /api/v1/tallies for 25 distinct article ids drawn at random over the whole
-- site, sorted as counts.js sends them. Args: <number of articles> <cms id tag> [ids per request]
-- (ids are "<tag>-000000" … as bench/seed_large.py names them).
local n, tag, per = 100, "bench", 25
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end

function init(args)
  n = tonumber(args[1]) or n
  tag = args[2] or tag
  per = tonumber(args[3]) or per
  math.randomseed(os.time() * 1000 + (seed or 0))
end

function request()
  local ids, seen = {}, {}
  while #ids < per do
    local i = math.random(0, n - 1)
    if not seen[i] then
      seen[i] = true
      ids[#ids + 1] = string.format("%s-%06d", tag, i)
    end
  end
  table.sort(ids)
  return wrk.format("GET", "/api/v1/tallies?ids=" .. table.concat(ids, ","))
end
