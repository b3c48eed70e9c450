-- wrk script: POST /recommend for a visitor the model has never seen, with INTERACTIONS (default 20)
-- ratings of random items from IDS_FILE (one item id per line): every request is folded in. The bodies
-- are built once, up front, so wrk spends its time sending rather than building JSON.
local items = {}
for line in io.lines(os.getenv("IDS_FILE")) do items[#items + 1] = line end
local count = tonumber(os.getenv("INTERACTIONS") or "20")
math.randomseed(42)
local bodies = {}
for visitor = 1, 5000 do
  local parts = {}
  for i = 1, count do
    parts[i] = '{"itemId":"' .. items[math.random(1, #items)] .. '","rating":' .. math.random(1, 5) .. '}'
  end
  bodies[visitor] = '{"userId":"bench-visitor-' .. visitor .. '","interactions":[' .. table.concat(parts, ",") .. '],"n":10}'
end
local headers = { ["Content-Type"] = "application/json" }
local next = 0
request = function()
  next = next % #bodies + 1
  return wrk.format("POST", "/recommend", headers, bodies[next])
end
