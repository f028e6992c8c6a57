-- wrk script: one Segment batch of BATCH track events per request, shaped as Segment's own SDKs
-- send them: every messageId as analytics-node makes it ("node-next-<ms>-<uuid v4>", so each is
-- stored, none deduplicated), every anonymousId a random UUID, one of 100,000 visitors picked at
-- random (an index entry per event would land anywhere in its index).
-- Reads WRITE_KEY_BASIC (the Authorization header value) and BATCH from the environment.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_usec; } quanyu_timeval;
  int gettimeofday(quanyu_timeval *tv, void *tz);
]]
local auth = os.getenv("WRITE_KEY_BASIC")
local batch = tonumber(os.getenv("BATCH") or "100")
local counter = 0
local thread_id = 0
local visitors, suffixes, skus = {}, {}, {}
local VISITORS, SUFFIXES = 100000, 65536
local now = ffi.new("quanyu_timeval")

function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
end

local function uuid4()
  return string.format("%08x-%04x-4%03x-%04x-%04x%08x", math.random(0, 0xffffffff), math.random(0, 0xffff),
    math.random(0, 0xfff), 0x8000 + math.random(0, 0x3fff), math.random(0, 0xffff), math.random(0, 0xffffffff))
end

function init(args)
  -- The same visitors on every thread; each thread its own messageId suffixes (made up front:
  -- wrk shares the machine's two cores with the server).
  math.randomseed(20261205)
  for v = 1, VISITORS do visitors[v] = uuid4() end
  math.randomseed(20261205 + tid * 7919)
  for s = 1, SUFFIXES do suffixes[s] = uuid4() end
  for k = 1, 2000 do skus[k] = '","properties":{"sku":"SKU' .. (k - 1) .. '","price":1290}}' end
end

function request()
  ffi.C.gettimeofday(now, nil)
  local prefix = string.format('{"type":"track","event":"Product Viewed","messageId":"node-next-%d%03d-',
    tonumber(now.tv_sec), math.floor(tonumber(now.tv_usec) / 1000))
  -- The body as one list of pieces, joined once: no string is made per event (LuaJIT interns
  -- every string it makes, and wrk shares the two cores with the server).
  local pieces, n, later = {}, 0, "," .. prefix
  for i = 1, batch do
    counter = counter + 1
    -- Unique: a suffix repeats after 65,536 events, long after the millisecond has passed.
    pieces[n + 1] = i == 1 and prefix or later
    pieces[n + 2] = suffixes[counter % SUFFIXES + 1]
    pieces[n + 3] = '","anonymousId":"'
    pieces[n + 4] = visitors[math.random(1, VISITORS)]
    pieces[n + 5] = skus[i % 2000 + 1]
    n = n + 5
  end
  local body = '{"batch":[' .. table.concat(pieces) .. ']}'
  local headers = { ["Authorization"] = auth, ["Content-Type"] = "application/json" }
  return wrk.format("POST", "/v1/batch", headers, body)
end
