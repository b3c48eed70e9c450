-- wrk script: POST /recommend for a visitor the model has never seen, with INTERACTIONS (default 20)
-- ratings of random items from IDS_FILE (one item id per line): every request is folded in.
local items = {}
for line in io.lines(os.getenv("IDS_FILE")) do items[#items + 1] = line end
local count = tonumber(os.getenv("INTERACTIONS") or "20")
math.randomseed(42)
local visitor = 0
request = function()
  visitor = visitor + 1
  local parts = {}
  for i = 1, count do
    parts[i] = '{"itemId":"' .. items[math.random(1, #items)] .. '","rating":' .. math.random(1, 5) .. '}'
  end
  local body = '{"userId":"bench-visitor-' .. visitor .. '","interactions":[' .. table.concat(parts, ",") .. '],"n":10}'
  return wrk.format("POST", "/recommend", { ["Content-Type"] = "application/json" }, body)
end
