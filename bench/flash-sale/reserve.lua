-- wrk script: one flash-sale reservation per request, each with its own buyer and
-- Idempotency-Key, so every request is a new reservation (per-customer limit 1). A buyer is a
-- member id, as staff name one: a UUID made of the thread and the request's number.
-- Reads SALE_ID and TOKEN from the environment.
local sale = os.getenv("SALE_ID")
local token = os.getenv("TOKEN")
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
  table.insert(threads, thread)
end

function init(args)
  path = "/api/v1/flash-sales/" .. sale .. "/reservations"
end

function request()
  counter = counter + 1
  local key = "w" .. tid .. "-" .. counter
  local buyer = string.format("%08x-0000-4000-8000-%012x", tid, counter)
  local body = '{"buyer":"' .. buyer .. '","quantity":1}'
  local headers = {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = key,
  }
  return wrk.format("POST", path, headers, body)
end
