-- Unit tests of lua/kem.lua (run from lua/: lua5.3 tests/kem_test.lua).
package.path = "./?.lua;./tests/?.lua;" .. package.path
local kem = require("kem")
local h = require("harness")
local test, eq, raises = h.test, h.eq, h.raises

test("u32_bytes is little-endian", function()
  eq("\1\0\0\0\255\255\255\255\4\3\2\1", kem.u32_bytes({1, 0xFFFFFFFF, 0x01020304}))
  eq("", kem.u32_bytes({}))
end)

test("u32_bytes refuses what is not a u32", function()
  raises(function() kem.u32_bytes({-1}) end, "not a u32")
  raises(function() kem.u32_bytes({0x100000000}) end, "not a u32")
  raises(function() kem.u32_bytes({1.5}) end, "not a u32")
end)

test("u32_array reads the proof of concept's output", function()
  -- <<2,6,10,14>> is the u32 0x0E0A0602.
  eq({0x0E0A0602}, kem.u32_array("\2\6\10\14"))
  eq({1, 0xFFFFFFFF}, kem.u32_array(kem.u32_bytes({1, 0xFFFFFFFF})))
  raises(function() kem.u32_array("abc") end, "whole number")
end)

test("byte arrays", function()
  eq({1, 3, 5, 7}, kem.byte_array("\1\3\5\7"))
  eq("\1\3\5\7", kem.bytes({1, 3, 5, 7}))
  local big = {}
  for i = 1, 10000 do big[i] = i % 256 end
  eq(10000, #kem.bytes(big))
  eq(big[9999], kem.bytes(big):byte(9999))
end)

test("json", function()
  eq('{"a":[1,2],"b":"x\\"y\\n","c":true}', kem.json({b = 'x"y\n', a = {1, 2}, c = true}))
  eq('[]', kem.json({}))
  eq('"\\u0001"', kem.json("\1"))
  eq('0.5', kem.json(0.5))
  raises(function() kem.json({[1.5] = 1, x = 2}) end)
  raises(function() kem.json(print) end, "cannot encode")
end)

test("request_body is the proof of concept's body", function()
  eq('{"input_data":[1,3,5,7],"kernel_id":"btSvNclyu2me_zGh4X9ULVRZqwze9l2DpkcVHcLw9Eg","output_size_hint":1}',
     kem.request_body("btSvNclyu2me_zGh4X9ULVRZqwze9l2DpkcVHcLw9Eg", "\1\3\5\7"))
  eq('{"input_data":[0],"kernel_id":"K","output_size_hint":4,"timeout":500}',
     kem.request_body("K", "\0", {output_size_hint = 4, timeout = 500}))
end)

test("messages", function()
  local m = kem.execute_kernel_message("K", "\1")
  eq("/~kem@1.0/execute_kernel", m.path)
  eq("POST", m.method)
  eq("application/json", m["content-type"])
  local p = kem.execute_kernel_with_params_message("K", "\1", {8, 6, 2}, {output_format = "raw"})
  eq("/~kem@1.0/execute_kernel_with_params", p.path)
  eq('{"input_data":[1],"kernel_id":"K","output_format":"raw","output_size_hint":1,"params":[8,6,2]}', p.body)
end)

test("resolve accepts both ao.resolve conventions", function()
  local reply = { status = 200, body = "\2\0\0\0" }
  local ok, r = kem.resolve({ resolve = function() return "ok", reply end }, {})
  eq(true, ok); eq(reply.body, r.body)
  ok, r = kem.resolve({ resolve = function() return reply end }, {})
  eq(true, ok); eq(reply.body, r.body)
  ok, r = kem.resolve({ resolve = function() return "ok", { status = 404, body = "{}" } end }, {})
  eq(false, ok); eq(404, r.status)
  ok, r = kem.resolve({ resolve = function() return "error", { status = 200, body = "" } end }, {})
  eq(false, ok)
  ok, r = kem.resolve({ resolve = function() return nil end }, {})
  eq(false, ok); eq(500, r.status)
end)

h.done("kem.lua unit tests")
