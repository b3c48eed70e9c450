-- wrk script: POSTs whose bodies are built once, up front, so wrk spends its time sending rather than
-- building JSON, from the ids in IDS_FILE (one per line), n=10. POST_KIND says which:
--   foldin: POST /recommend for a visitor the model has never seen, with INTERACTIONS (default 20) ratings
--           of random items (IDS_FILE holds item ids): every request is folded in;
--   batch:  POST /recommend/batch of BATCH (default 1,000) random users (IDS_FILE holds user ids).
local ids = {}
for line in io.lines(os.getenv("IDS_FILE")) do ids[#ids + 1] = line end
local function pick() return ids[math.random(1, #ids)] end
math.randomseed(42)
local kind, path, bodies = os.getenv("POST_KIND"), nil, {}
if kind == "foldin" then
  path = "/recommend"
  local count = tonumber(os.getenv("INTERACTIONS") or "20")
  for visitor = 1, 5000 do
    local parts = {}
    for i = 1, count do parts[i] = '{"itemId":"' .. pick() .. '","rating":' .. math.random(1, 5) .. '}' end
    bodies[visitor] = '{"userId":"bench-visitor-' .. visitor .. '","interactions":[' .. table.concat(parts, ",") .. '],"n":10}'
  end
elseif kind == "batch" then
  path = "/recommend/batch"
  local size = tonumber(os.getenv("BATCH") or "1000")
  for b = 1, 200 do
    local parts = {}
    for i = 1, size do parts[i] = '"' .. pick() .. '"' end
    bodies[b] = '{"userIds":[' .. table.concat(parts, ",") .. '],"n":10}'
  end
else
  error("POST_KIND must be foldin or batch")
end
local headers = { ["Content-Type"] = "application/json" }
local next = 0
request = function()
  next = next % #bodies + 1
  return wrk.format("POST", path, headers, bodies[next])
end
