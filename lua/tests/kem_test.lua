-- Unit tests of lua/kem.lua (run from lua/: lua5.3 tests/kem_test.lua). tests/luerl_check.escript
-- runs the same text under luerl 1.3.0, after loading harness.lua and the bundle (sh bundle.sh)
-- into package.loaded: there, require and package.path are not relied on.
if not package.loaded["kem"] then package.path = "./?.lua;./tests/?.lua;" .. package.path end
local kem = package.loaded["kem"] or require("kem")
local h = package.loaded["harness"] or require("harness")
local test, eq, raises = h.test, h.eq, h.raises

-- Independent references: literal bytes, and arithmetic with // and % (kem.lua uses the bit
-- operators); under Lua 5.3 also string.pack / string.unpack, which luerl does not have.
local function ref_u32_le(v)
  return string.char(v % 256, v // 256 % 256, v // 65536 % 256, v // 16777216 % 256)
end
local function ref_u32_at(s, i)
  local a, b, c, d = string.byte(s, i, i + 3)
  return a + 256 * b + 65536 * c + 16777216 * d
end
local has_pack = type(string.pack) == "function"

-- Values at the edges of each byte and of the u32 range, with their bytes written out.
local EDGES = {
  {0, "\0\0\0\0"}, {1, "\1\0\0\0"}, {255, "\255\0\0\0"}, {256, "\0\1\0\0"},
  {65535, "\255\255\0\0"}, {65536, "\0\0\1\0"}, {16777215, "\255\255\255\0"},
  {16777216, "\0\0\0\1"}, {2147483647, "\255\255\255\127"}, {2147483648, "\0\0\0\128"},
  {0x01020304, "\4\3\2\1"}, {0xDEADBEEF, "\239\190\173\222"}, {4294967295, "\255\255\255\255"},
}

-- 2,500 pseudo-random u32 (an LCG mod 2^32) with the edge values mixed in: 10,000 bytes,
-- many times the 256 values kem.lua handles per call.
local function many_u32()
  local values, x = {}, 12345
  for i = 1, 2500 do
    x = (x * 1103515245 + 12345) % 4294967296
    values[i] = x
  end
  for i, e in ipairs(EDGES) do values[i * 191] = e[1] end
  return values
end

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

test("u32_bytes and u32_array at the edges of the u32 range", function()
  for _, e in ipairs(EDGES) do
    local v, bytes = e[1], e[2]
    eq(bytes, kem.u32_bytes({v}), "u32_bytes of " .. v)
    eq(bytes, ref_u32_le(v), "reference bytes of " .. v)
    if has_pack then eq(bytes, string.pack("<I4", v), "string.pack of " .. v) end
    eq({v}, kem.u32_array(bytes), "u32_array of " .. v)
    eq("integer", math.type(kem.u32_array(bytes)[1]))
  end
  eq({0, 255, 256, 2147483648, 4294967295},
     kem.u32_array("\0\0\0\0\255\0\0\0\0\1\0\0\0\0\0\128\255\255\255\255"))
end)

test("u32_bytes and u32_array of 10,000 bytes", function()
  local values = many_u32()
  local ref, packed = {}, {}
  for i, v in ipairs(values) do
    ref[i] = ref_u32_le(v)
    if has_pack then packed[i] = string.pack("<I4", v) end
  end
  local bytes = kem.u32_bytes(values)
  eq(10000, #bytes)
  eq(table.concat(ref), bytes, "u32_bytes against the arithmetic reference")
  if has_pack then eq(table.concat(packed), bytes, "u32_bytes against string.pack") end
  local back = kem.u32_array(bytes)
  eq(2500, #back)
  local from_ref = {}
  for i = 1, #bytes, 4 do from_ref[#from_ref + 1] = ref_u32_at(bytes, i) end
  eq(values, back, "round trip")
  eq(from_ref, back, "u32_array against the arithmetic reference")
  if has_pack then
    local unpacked = {}
    for i = 1, #bytes, 4 do unpacked[#unpacked + 1] = (string.unpack("<I4", bytes, i)) end
    eq(unpacked, back, "u32_array against string.unpack")
  end
end)

test("byte_array and bytes across chunk boundaries", function()
  for _, n in ipairs({0, 1, 255, 256, 257, 511, 512, 513, 10000}) do
    local array, parts = {}, {}
    for i = 1, n do
      array[i] = (i * 7 + i // 256) % 256
      parts[i] = string.char(array[i])
    end
    local s = table.concat(parts)
    eq(s, kem.bytes(array), "bytes of " .. n)
    eq(array, kem.byte_array(s), "byte_array of " .. n)
    eq(n, #kem.byte_array(s), "length of byte_array of " .. n)
  end
  local all = {}
  for i = 0, 255 do all[i + 1] = i end
  eq(all, kem.byte_array(kem.bytes(all)))
end)

test("bytes and u32_array refuse bad input", function()
  raises(function() kem.bytes({1, 256}) end, "value 2 is not a byte")
  raises(function() kem.bytes({-1}) end, "not a byte")
  raises(function() kem.bytes({1.5}) end, "not a byte")
  raises(function() kem.bytes({"7"}) end, "not a byte")
  raises(function() kem.u32_array(nil) end, "expected a string")
  raises(function() kem.u32_array("\0\0\0\0\0") end, "5 bytes is not a whole number")
  raises(function() kem.u32_bytes({1, 2, 4294967296}) end, "value 3 is not a u32")
  raises(function() kem.u32_bytes({"1"}) end, "not a u32")
  raises(function() kem.u32_bytes({2.0}) end, "not a u32")
end)

test("request_body carries every byte", function()
  eq('{"input_data":[0,0,0,0,255,255,255,255,0,1,0,0],"kernel_id":"K","output_size_hint":1}',
     kem.request_body("K", kem.u32_bytes({0, 4294967295, 256})))
end)

test("json", function()
  eq('{"a":[1,2],"b":"x\\"y\\n","c":true}', kem.json({b = 'x"y\n', a = {1, 2}, c = true}))
  eq('[]', kem.json({}))
  eq('"\\u0001"', kem.json("\1"))
  eq('0.5', kem.json(0.5))
  -- Floats read back exactly, and luerl writes the same text as Lua 5.3.
  eq('[0.10000000000000001,-2.5,123.25,1e+20,9.9999999999999995e-8,100,0,0.33333333333333331]',
     kem.json({0.1, -2.5, 123.25, 1e20, 1e-7, 100.0, 0.0, 1 / 3}))
  local made, nan = pcall(function() return 0 / 0 end)   -- luerl raises on 0/0: no NaN there
  if made then raises(function() kem.json(nan) end, "NaN") end
  raises(function() kem.json(math.huge) end, "NaN")
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

return h.done("kem.lua unit tests")
