-- wrk script: one Segment batch of BATCH track events per request, every event with its own
-- messageId (so each is stored, none deduplicated) and one of 100,000 anonymous visitors.
-- Reads WRITE_KEY_BASIC (the Authorization header value) and BATCH from the environment.
local auth = os.getenv("WRITE_KEY_BASIC")
local batch = tonumber(os.getenv("BATCH") or "100")
local counter = 0
local thread_id = 0

function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
end

function request()
  counter = counter + 1
  local events = {}
  for i = 1, batch do
    local id = "w" .. tid .. "-" .. counter .. "-" .. i
    events[i] = '{"type":"track","event":"Product Viewed","messageId":"' .. id ..
      '","anonymousId":"a' .. ((counter * batch + i) % 100000) ..
      '","properties":{"sku":"SKU' .. (i % 2000) .. '","price":1290}}'
  end
  local body = '{"batch":[' .. table.concat(events, ",") .. ']}'
  local headers = { ["Authorization"] = auth, ["Content-Type"] = "application/json" }
  return wrk.format("POST", "/v1/batch", headers, body)
end
