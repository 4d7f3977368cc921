-- End-to-end: runs lua/kem-device.lua's compute() with ao.resolve bound to HTTP calls (curl)
-- against a running KEM endpoint. Usage (from lua/): lua5.3 tests/e2e_test.lua PORT
-- The endpoint must serve the proof of concept's ID (pinned double-integer kernel).
package.path = "./?.lua;./tests/?.lua;" .. package.path
local h = require("harness")
local port = assert(tonumber(arg[1]), "usage: e2e_test.lua PORT")

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("a")
  f:close()
  return data
end

-- ao.resolve over HTTP, as a HyperBEAM node would route a message to a device.
ao = {
  resolve = function(msg)
    local body_file, out_file = os.tmpname(), os.tmpname()
    local f = assert(io.open(body_file, "wb"))
    f:write(msg.body or "")
    f:close()
    local cmd = ("curl -s -X %s -H 'content-type: %s' --data-binary @%s -o %s -w '%%{http_code}' "
                 .. "'http://127.0.0.1:%d%s'"):format(msg.method or "GET",
      msg["content-type"] or "application/octet-stream", body_file, out_file, port, msg.path)
    local p = assert(io.popen(cmd))
    local code = tonumber(p:read("a"))
    p:close()
    local body = read_file(out_file)
    os.remove(body_file); os.remove(out_file)
    if not code or code == 0 then return "error", { status = 503, body = "endpoint unreachable" } end
    return "ok", { status = code, body = body }
  end,
}

dofile("kem-device.lua")

h.test("the example process doubles values on the GPU", function()
  local base = compute({}, { values = "1,2,3,4294967295" }, {})
  h.eq("2,4,6,4294967294", base.results.output.data)
end)

h.test("DoubleOnGpu returns the device's error for an unknown kernel", function()
  local saved = KernelId
  KernelId = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAk"
  local values, err = DoubleOnGpu({1})
  KernelId = saved
  h.eq(nil, values)
  h.eq(true, err:find('"error":"not_found"', 1, true) ~= nil, "error code in " .. tostring(err))
end)

h.test("a message without values gets an error output", function()
  h.eq("no values", compute({}, {}, {}).results.output.error)
end)

h.done("kem-device.lua end-to-end")
