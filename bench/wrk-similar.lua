-- wrk script: GET /similar/<random item id from IDS_FILE, one per line>?n=10
local ids = {}
for line in io.lines(os.getenv("IDS_FILE")) do ids[#ids + 1] = line end
math.randomseed(42)
request = function()
  return wrk.format("GET", "/similar/" .. ids[math.random(1, #ids)] .. "?n=10")
end
