-- kem-device.lua: an ao process (HyperBEAM lua@5.3a) that computes on the node's GPU through
-- the kem@1.0 device. Each message's "values" (comma-separated u32) are doubled by the
-- double-integer kernel published under KernelId; the reply carries the doubled values.
--
-- On ao, bundle lua/kem.lua before this script (it defines package.loaded.kem).
local kem = package.loaded["kem"] or require("kem")

KernelId = KernelId or "btSvNclyu2me_zGh4X9ULVRZqwze9l2DpkcVHcLw9Eg"

local function parse_values(text)
  local values = {}
  for n in tostring(text or ""):gmatch("%d+") do values[#values + 1] = math.tointeger(tonumber(n)) end
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
  local values = parse_values(req.values or (req.body and req.body.values))
  base.results = base.results or {}
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
