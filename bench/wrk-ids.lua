-- wrk script: GET <PATH_PREFIX><random id from IDS_FILE, one per line>?n=10; PATH_PREFIX defaults to /recommend/
-- (/similar/ with item ids asks for similar items)
local ids = {}
for line in io.lines(os.getenv("IDS_FILE")) do ids[#ids + 1] = line end
local prefix = os.getenv("PATH_PREFIX") or "/recommend/"
math.randomseed(42)
request = function()
  return wrk.format("GET", prefix .. ids[math.random(1, #ids)] .. "?n=10")
end
