-- wrk script: POST /recommend/batch of BATCH (default 1,000) random users from IDS_FILE (one per line),
-- n=10. The bodies are built once, up front, so wrk spends its time sending rather than building JSON.
local ids = {}
for line in io.lines(os.getenv("IDS_FILE")) do ids[#ids + 1] = line end
local size = tonumber(os.getenv("BATCH") or "1000")
math.randomseed(42)
local bodies = {}
for b = 1, 200 do
  local parts = {}
  for i = 1, size do parts[i] = '"' .. ids[math.random(1, #ids)] .. '"' end
  bodies[b] = '{"userIds":[' .. table.concat(parts, ",") .. '],"n":10}'
end
local headers = { ["Content-Type"] = "application/json" }
local next = 0
request = function()
  next = next % #bodies + 1
  return wrk.format("POST", "/recommend/batch", headers, bodies[next])
end
