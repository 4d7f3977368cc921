-- kem.lua: helpers for calling the kem@1.0 device (KEM: WGSL compute kernels on a HyperBEAM
-- node's GPU) from ao processes. Pure Lua, no libraries; runs under Lua 5.3 and under luerl
-- 1.3.0, the Lua VM of HyperBEAM's lua@5.3a device.
--
--   local kem = require("kem")                        -- or package.loaded["kem"], see below
--   local msg = kem.execute_kernel_message(ID, kem.u32_bytes({1, 2, 3}))
--   local ok, reply = kem.resolve(ao, msg)
--   local doubled = kem.u32_array(reply.body)        -- {2, 4, 6}
--
-- luerl 1.3.0's limits, which this file keeps to: there is no string.pack / string.unpack
-- (u32s are assembled with string.byte / string.char and the bit operators), string.gmatch
-- always raises badarg (use string.find in a loop), string.char of a value outside 0..255
-- raises an Erlang badarg that pcall cannot catch (values are checked first), string.format
-- drops backslashes in its format string, and long table.unpack / string.byte results are
-- kept to CHUNK values at a time. Integers in luerl are Erlang bignums (no 64-bit wrap-around),
-- so every value is range-checked rather than left to wrap.
--
-- On ao, HyperBEAM's dev_lua has no require for extra files: a process script must carry this
-- module in its own text. lua/bundle.sh prints such a script (this file wrapped as
-- package.loaded["kem"] = (function() ... end)(), then lua/kem-device.lua):
--   sh lua/bundle.sh > process.lua
local kem = {}

-- How many values one table.unpack / string.byte call handles at most.
local CHUNK = 256

kem.DEVICE = "kem@1.0"

-- Bytes (a Lua string) of u32 values, little-endian as the GPU reads them. Each value must be
-- an integer in 0..2^32-1 (no string.pack("<I4") in luerl: the bytes are cut out by hand).
function kem.u32_bytes(values)
  local parts = {}
  for i, v in ipairs(values) do
    if math.type(v) ~= "integer" or v < 0 or v > 0xFFFFFFFF then
      error(("u32_bytes: value %d is not a u32: %s"):format(i, tostring(v)), 2)
    end
    parts[i] = string.char(v & 0xFF, (v >> 8) & 0xFF, (v >> 16) & 0xFF, (v >> 24) & 0xFF)
  end
  return table.concat(parts)
end

-- u32 values of bytes (a Lua string), little-endian; the length must be a multiple of 4
-- (no string.unpack in luerl: each value is assembled from its four bytes).
function kem.u32_array(bytes)
  if type(bytes) ~= "string" then
    error(("u32_array: expected a string of bytes, got a %s"):format(type(bytes)), 2)
  end
  if #bytes % 4 ~= 0 then
    error(("u32_array: %d bytes is not a whole number of u32"):format(#bytes), 2)
  end
  local values = {}
  for i = 1, #bytes, 4 do
    local b0, b1, b2, b3 = string.byte(bytes, i, i + 3)
    values[#values + 1] = b0 | (b1 << 8) | (b2 << 16) | (b3 << 24)
  end
  return values
end

-- Bytes (a Lua string) as an array of numbers 0..255, and back. Both work CHUNK bytes at a
-- time (Lua 5.3 limits how many values one call may return; luerl's table.unpack too).
function kem.byte_array(bytes)
  local array = {}
  for i = 1, #bytes, CHUNK do
    local chunk = { string.byte(bytes, i, math.min(i + CHUNK - 1, #bytes)) }
    for j = 1, #chunk do array[#array + 1] = chunk[j] end
  end
  return array
end

function kem.bytes(array)
  local parts = {}
  for i = 1, #array, CHUNK do
    local last = math.min(i + CHUNK - 1, #array)
    -- luerl's string.char fails outside Lua (uncatchable) for a non-byte: check them here.
    for j = i, last do
      local b = array[j]
      if math.type(b) ~= "integer" or b < 0 or b > 255 then
        error(("bytes: value %d is not a byte: %s"):format(j, tostring(b)), 2)
      end
    end
    parts[#parts + 1] = string.char(table.unpack(array, i, last))
  end
  return table.concat(parts)
end

-- Minimal JSON for request bodies: strings, integers, booleans, arrays (sequences) and
-- objects (string keys, written in sorted order so bodies are reproducible).
-- luerl's string.format drops a backslash in the format string ("\\u%04x" gives "u0001"),
-- so the backslash of \uXXXX is concatenated, not formatted.
local function encode_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    local named = { ['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }
    return named[c] or ("\\u" .. ("%04x"):format(c:byte()))
  end) .. '"'
end

-- A float as a JSON number that reads back exactly. luerl's "%.17g" keeps trailing zeros
-- ("0.50000000000000000") and C's writes two exponent digits ("1e-08"): both are trimmed, so
-- Lua 5.3 and luerl write the same text (except where luerl switches to an exponent earlier:
-- 1e16 is "1e+16" there and "10000000000000000" in Lua 5.3, the same JSON number).
local function format_float(x)
  local s = ("%.17g"):format(x)
  local mantissa, exponent = s, nil
  local e = string.find(s, "[eE]")
  if e then mantissa, exponent = string.sub(s, 1, e - 1), string.sub(s, e + 1) end
  if string.find(mantissa, ".", 1, true) then
    mantissa = (string.gsub(mantissa, "0+$", ""))
    mantissa = (string.gsub(mantissa, "%.$", ""))
  end
  if not exponent then return mantissa end
  local _, _, sign, digits = string.find(exponent, "^([+-]?)0*(%d+)$")
  if digits == "0" then return mantissa end            -- luerl writes 0.0 as "0.000...e+0"
  return mantissa .. "e" .. (sign or "") .. (digits or exponent)
end

function kem.json(value)
  local t = type(value)
  if t == "string" then
    return encode_string(value)
  elseif t == "number" then
    if math.type(value) == "integer" then return tostring(value) end
    if value ~= value or value == math.huge or value == -math.huge then
      error("json: NaN and infinities have no JSON form", 2)
    end
    return format_float(value)
  elseif t == "boolean" then
    return tostring(value)
  elseif t == "table" then
    if next(value) == nil or #value > 0 then
      local items = {}
      for i, v in ipairs(value) do items[i] = kem.json(v) end
      return "[" .. table.concat(items, ",") .. "]"
    end
    local keys = {}
    for k in pairs(value) do
      if type(k) ~= "string" then error("json: object keys must be strings", 2) end
      keys[#keys + 1] = k
    end
    table.sort(keys)
    local fields = {}
    for i, k in ipairs(keys) do fields[i] = encode_string(k) .. ":" .. kem.json(value[k]) end
    return "{" .. table.concat(fields, ",") .. "}"
  end
  error("json: cannot encode a " .. t, 2)
end

-- The JSON body of an execute_kernel call (the proof of concept's format): the input as an
-- array of bytes, output_size_hint (default 1) and any other fields given in opts
-- (output_size, timeout, params = {u32...}, output_format...).
function kem.request_body(kernel_id, input, opts)
  local body = { kernel_id = kernel_id, input_data = kem.byte_array(input), output_size_hint = 1 }
  for k, v in pairs(opts or {}) do body[k] = v end
  return kem.json(body)
end

-- A message for ao.resolve that calls one of the device's keys with a JSON body.
function kem.message(key, body)
  return {
    path = "/~" .. kem.DEVICE .. "/" .. key,
    method = "POST",
    ["content-type"] = "application/json",
    body = body,
  }
end

function kem.execute_kernel_message(kernel_id, input, opts)
  return kem.message("execute_kernel", kem.request_body(kernel_id, input, opts))
end

function kem.execute_kernel_with_params_message(kernel_id, input, params, opts)
  local o = { params = params }
  for k, v in pairs(opts or {}) do o[k] = v end
  return kem.message("execute_kernel_with_params", kem.request_body(kernel_id, input, o))
end

-- Calls ao.resolve and returns ok, reply. HyperBEAM's Lua device returns (status, result);
-- a binding that returns the result alone is accepted too. ok is false for a failed call
-- or an HTTP-style status of 400 and above, and reply.body then holds the device's JSON error.
function kem.resolve(ao, msg)
  local first, second = ao.resolve(msg)
  local reply = second
  if second == nil then reply = first end
  if type(reply) ~= "table" then
    return false, { status = 500, body = tostring(reply) }
  end
  local status = tonumber(reply.status) or 200
  local ok = status < 400 and (second == nil or first == "ok" or first == true or first == 0)
  return ok, reply
end

return kem
