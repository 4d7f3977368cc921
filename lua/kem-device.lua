-- kem-device.lua: an ao process (HyperBEAM lua@5.3a) that computes on the node's GPU through
-- the kem@1.0 device. Each message's "values" (comma-separated u32) are doubled by the
-- double-integer kernel published under KernelId; the reply carries the doubled values.
--
-- Runs under luerl 1.3.0 (HyperBEAM's Lua VM) and Lua 5.3. On ao, dev_lua has no require for
-- extra files, so the process script is ONE text: lua/kem.lua wrapped as
-- package.loaded["kem"] = (function() ... end)(), then this file. lua/bundle.sh prints it:
--   sh lua/bundle.sh > process.lua        (the module body of the process message)
-- Under Lua 5.3 this file also works alone, with kem.lua found by require.
local kem = package.loaded["kem"] or require("kem")

KernelId = KernelId or "btSvNclyu2me_zGh4X9ULVRZqwze9l2DpkcVHcLw9Eg"

-- The u32 values in text: every run of digits is one value (anything else separates them).
-- Returns the values, or nil and an error for a value above 2^32-1. luerl's string.gmatch
-- always raises badarg, so this walks the text with string.find; digits are added up by hand
-- so that a long number gives the same error in luerl (big integers) as in Lua 5.3 (floats).
local function parse_values(text)
  text = tostring(text or "")
  local values = {}
  local pos = 1
  while true do
    local first, last = string.find(text, "%d+", pos)
    if not first then break end
    local n = 0
    for i = first, last do
      n = n * 10 + (string.byte(text, i) - 48)
      if n > 0xFFFFFFFF then
        return nil, ("value %d is not a u32: %s"):format(#values + 1, string.sub(text, first, last))
      end
    end
    values[#values + 1] = n
    pos = last + 1
  end
  return values
end

-- Doubles u32 values on the GPU; returns the doubled values, or nil and the device's error.
function DoubleOnGpu(values)
  local ok, reply = kem.resolve(ao, kem.execute_kernel_message(KernelId, kem.u32_bytes(values)))
  if not ok then return nil, reply.body end
  return kem.u32_array(reply.body)
end

-- HyperBEAM's Lua device calls compute(base, req, opts) for every message of the process.
function compute(base, req, opts)
  local values, bad = parse_values(req.values or (type(req.body) == "table" and req.body.values or nil))
  base.results = base.results or {}
  if not values then
    base.results.output = { error = bad }
    return base
  end
  if #values == 0 then
    base.results.output = { error = "no values" }
    return base
  end
  local doubled, err = DoubleOnGpu(values)
  if doubled then
    local text = {}
    for i, v in ipairs(doubled) do text[i] = tostring(v) end
    base.results.output = { data = table.concat(text, ",") }
  else
    base.results.output = { error = err }
  end
  return base
end
