-- The bundled process script (output of lua/bundle.sh): it loads as one text and compute()
-- works with ao.resolve stubbed by a Lua function that doubles, as the double-integer kernel
-- does (mod 2^32). A unit test of the Lua code only; the real device is tested elsewhere.
-- Lua 5.3, from lua/:  sh bundle.sh > /tmp/p.lua && lua5.3 tests/bundle_test.lua /tmp/p.lua
-- (without an argument it runs sh bundle.sh itself). tests/luerl_check.escript runs this text
-- under luerl after loading harness.lua and the bundle itself.
local h = package.loaded["harness"]
if not h then
  package.path = "./tests/?.lua;" .. package.path   -- not ./?.lua: kem must come from the bundle
  h = require("harness")
end
local test, eq = h.test, h.eq

if not compute then                                   -- Lua 5.3: load the bundle here
  local text
  if arg and arg[1] then
    local f = assert(io.open(arg[1], "rb"))
    text = f:read("a")
    f:close()
  else
    local p = assert(io.popen("sh bundle.sh", "r"))
    text = p:read("a")
    assert(p:close(), "sh bundle.sh failed")
  end
  package.loaded["kem"] = nil
  assert(load(text, "=bundle", "t"))()
end

-- The stub of ao.resolve: reads input_data (a JSON array of bytes) from the request body with
-- string.find (luerl has no gmatch), doubles each little-endian u32 with arithmetic and
-- returns the bytes, as HyperBEAM's dev_lua returns ("ok", reply).
local calls = {}
local function stub_resolve(msg)
  calls[#calls + 1] = msg
  local _, _, list = string.find(msg.body, '"input_data":%[([%d,]*)%]')
  local bytes, pos = {}, 1
  while true do
    local first, last = string.find(list, "%d+", pos)
    if not first then break end
    bytes[#bytes + 1] = tonumber(string.sub(list, first, last))
    pos = last + 1
  end
  local out = {}
  for i = 1, #bytes, 4 do
    local v = bytes[i] + 256 * bytes[i + 1] + 65536 * bytes[i + 2] + 16777216 * bytes[i + 3]
    v = (2 * v) % 4294967296
    out[#out + 1] = string.char(v % 256, v // 256 % 256, v // 65536 % 256, v // 16777216)
  end
  return "ok", { status = 200, body = table.concat(out) }
end
ao = { resolve = stub_resolve }

test("the bundle defines the process and the kem module", function()
  eq("table", type(package.loaded["kem"]))
  eq("kem@1.0", package.loaded["kem"].DEVICE)
  eq("function", type(compute))
  eq("function", type(DoubleOnGpu))
  eq("btSvNclyu2me_zGh4X9ULVRZqwze9l2DpkcVHcLw9Eg", KernelId)
end)

test("compute doubles values through ao.resolve", function()
  local n = #calls
  local base = compute({}, { values = "0,1,255,256,2147483647,2147483648,4294967295" }, {})
  eq("0,2,510,512,4294967294,0,4294967294", base.results.output.data)
  eq(n + 1, #calls)
  local msg = calls[#calls]
  eq("/~kem@1.0/execute_kernel", msg.path)
  eq("POST", msg.method)
  eq("application/json", msg["content-type"])
  eq(true, string.find(msg.body, '"kernel_id":"btSvNclyu2me_zGh4X9ULVRZqwze9l2DpkcVHcLw9Eg"', 1, true) ~= nil)
end)

test("compute reads values from the body too, with any separators", function()
  eq("2,4,6", compute({}, { body = { values = " 1; 2\n3 " } }, {}).results.output.data)
  eq("84", compute({ results = { x = 1 } }, { values = 42 }, {}).results.output.data)
end)

test("compute of 2,500 values (10,000 bytes)", function()
  local values, expected, x = {}, {}, 7
  for i = 1, 2500 do
    x = (x * 1103515245 + 12345) % 4294967296
    values[i] = tostring(x)
    expected[i] = tostring((2 * x) % 4294967296)
  end
  eq(table.concat(expected, ","), compute({}, { values = table.concat(values, ",") }, {}).results.output.data)
end)

test("compute reports bad input and device errors", function()
  local n = #calls
  eq("no values", compute({}, {}, {}).results.output.error)
  eq("no values", compute({}, { values = "none" }, {}).results.output.error)
  eq("value 2 is not a u32: 4294967296", compute({}, { values = "1,4294967296" }, {}).results.output.error)
  eq("value 1 is not a u32: 99999999999999999999999",
     compute({}, { values = "99999999999999999999999" }, {}).results.output.error)
  eq(n, #calls, "no device call for bad input")
  eq("4", compute({}, { values = "0000000000000000002" }, {}).results.output.data)
  ao = { resolve = function() return "ok", { status = 404, body = '{"error":"not_found"}' } end }
  eq('{"error":"not_found"}', compute({}, { values = "1" }, {}).results.output.error)
  ao = { resolve = stub_resolve }
end)

return h.done("bundled process script")
