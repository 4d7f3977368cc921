-- kem.lua: helpers for calling the kem@1.0 device (KEM: WGSL compute kernels on a HyperBEAM
-- node's GPU) from ao processes. Pure Lua 5.3, no libraries.
--
--   local kem = require("kem")
--   local msg = kem.execute_kernel_message(ID, kem.u32_bytes({1, 2, 3}))
--   local ok, reply = kem.resolve(ao, msg)
--   local doubled = kem.u32_array(reply.body)        -- {2, 4, 6}
local kem = {}

kem.DEVICE = "kem@1.0"

-- Bytes (a Lua string) of u32 values, little-endian as the GPU reads them.
function kem.u32_bytes(values)
  local parts = {}
  for i, v in ipairs(values) do
    if math.type(v) ~= "integer" or v < 0 or v > 0xFFFFFFFF then
      error(("u32_bytes: value %d is not a u32: %s"):format(i, tostring(v)), 2)
    end
    parts[i] = string.pack("<I4", v)
  end
  return table.concat(parts)
end

-- u32 values of bytes (a Lua string); the length must be a multiple of 4.
function kem.u32_array(bytes)
  if #bytes % 4 ~= 0 then
    error(("u32_array: %d bytes is not a whole number of u32"):format(#bytes), 2)
  end
  local values = {}
  for i = 1, #bytes, 4 do
    values[#values + 1] = string.unpack("<I4", bytes, i)
  end
  return values
end

-- Bytes (a Lua string) as an array of numbers 0..255, and back.
function kem.byte_array(bytes)
  return { string.byte(bytes, 1, -1) }
end

function kem.bytes(array)
  local parts = {}
  for i = 1, #array, 4096 do
    parts[#parts + 1] = string.char(table.unpack(array, i, math.min(i + 4095, #array)))
  end
  return table.concat(parts)
end

-- Minimal JSON for request bodies: strings, integers, booleans, arrays (sequences) and
-- objects (string keys, written in sorted order so bodies are reproducible).
local function encode_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    local named = { ['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }
    return named[c] or ("\\u%04x"):format(c:byte())
  end) .. '"'
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
    return ("%.17g"):format(value)
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
