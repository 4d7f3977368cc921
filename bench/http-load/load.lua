-- wrk script of the HTTP load and fault test (bench/http-load/run.sh drives it).
--
-- Run with as many threads as connections (-t N -c N): each thread then has one connection,
-- so its responses come back in the order of its requests and every response is checked
-- against the exact request it answers. (With several connections per thread, wrk's
-- response() cannot tell which request a response belongs to.)
--
-- Arguments after "--": TOTAL requests, the double-integer kernel's ID, the THREADS count,
-- the TARGET ("kem", KEM's own endpoint, or "hyperbeam", a HyperBEAM node).
-- Each thread sends its share of TOTAL and stops; it then writes "KEMLOAD-DONE" to stderr,
-- because wrk itself only ends at its -d duration (the driver interrupts it once every
-- thread is done). done() prints one line "KEMLOAD-RESULT {json}" for the driver.
--
-- Requests cycle through 16 slots: 10 valid execute_kernel calls with varied inputs (the
-- reply must be the CPU's answer, byte for byte) and 6 classes of invalid ones (each must
-- get its exact 4xx status and a JSON body naming the error).

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } kem_timespec;
int clock_gettime(int clock_id, kem_timespec *tp);
]]
local timespec = ffi.new("kem_timespec")
local CLOCK_MONOTONIC = 1

-- Microseconds on a clock all threads share (wrk's own runtime includes its idle sleep).
local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) * 1e6 + tonumber(timespec.tv_nsec) / 1e3
end

local TWO32 = 4294967296
local DEVICE = "/~kem@1.0"

---------------------------------------------------------------------------------------------
-- Inputs and the CPU reference

-- 1..13 little-endian u32 words plus 0..3 trailing bytes, all derived from n. The words
-- cover the whole u32 range, so doubling wraps for about half of them.
local function input_bytes(n)
  local bytes = {}
  local words = 1 + n % 13
  for i = 0, words - 1 do
    local w = ((n % 65536) * 40503 + i * 2654435761 + n) % TWO32
    for b = 0, 3 do bytes[#bytes + 1] = math.floor(w / 256 ^ b) % 256 end
  end
  for t = 1, math.floor(n / 13) % 4 do bytes[#bytes + 1] = (n * 31 + t * 97) % 256 end
  return bytes
end

-- double-integer's contract: the input zero-padded to whole words, each u32 doubled
-- (wrapping); the output is #input * hint bytes, the words past the input's being 0.
local function doubled(bytes, hint)
  local out = {}
  for i = 1, #bytes, 4 do
    local w = (bytes[i] or 0) + (bytes[i + 1] or 0) * 256 + (bytes[i + 2] or 0) * 65536
              + (bytes[i + 3] or 0) * 16777216
    w = (w * 2) % TWO32
    for b = 0, 3 do out[#out + 1] = string.char(math.floor(w / 256 ^ b) % 256) end
  end
  local size = #bytes * hint
  while #out < size do out[#out + 1] = "\0" end
  return table.concat(out, "", 1, size)
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function base64(bytes)
  local out = {}
  for i = 1, #bytes, 3 do
    local a, b, c = bytes[i], bytes[i + 1], bytes[i + 2]
    local v = a * 65536 + (b or 0) * 256 + (c or 0)
    local function digit(shift) local d = math.floor(v / 2 ^ shift) % 64 + 1; return B64:sub(d, d) end
    out[#out + 1] = digit(18) .. digit(12) .. (b and digit(6) or "=") .. (c and digit(0) or "=")
  end
  return table.concat(out)
end

---------------------------------------------------------------------------------------------
-- Checks: each returns nil when the response is right, else why it is wrong.

local function header(headers, name)
  for k, v in pairs(headers) do
    if k:lower() == name then return v end
  end
end

-- Printable and short, for the failure report.
local function show(s)
  s = s:sub(1, 120):gsub("[^%w%p ]", function(c) return string.format("\\x%02x", c:byte()) end)
  return s
end

local function expect_output(expected)
  return function(status, headers, body)
    if status ~= 200 then return "status " .. status .. ": " .. show(body) end
    local ctype = header(headers, "content-type")
    if ctype ~= "application/octet-stream" then return "content-type " .. tostring(ctype) end
    if body ~= expected then return "wrong output: " .. show(body) .. " (want " .. show(expected) .. ")" end
  end
end

local function expect_status(want_status)
  return function(status, headers, body)
    if status ~= want_status then return "status " .. status .. " (want " .. want_status .. "): " .. show(body) end
  end
end

local function expect_error(want_status, want_code)
  return function(status, headers, body)
    if status ~= want_status then return "status " .. status .. " (want " .. want_status .. "): " .. show(body) end
    local ctype = header(headers, "content-type")
    if ctype ~= "application/json" then return "content-type " .. tostring(ctype) .. ": " .. show(body) end
    local code = body:match('^{.*"error":"([%w_]+)".*}$')
    if code ~= want_code then return "error " .. tostring(code) .. " (want " .. want_code .. "): " .. show(body) end
    if not body:find('"details":"', 1, true) then return "no details: " .. show(body) end
  end
end

---------------------------------------------------------------------------------------------
-- Requests

local JSON = { ["Content-Type"] = "application/json" }
local NONE = {}
local kernel_id

local function req(class, method, path, headers, body, check)
  return { class = class, method = method, path = path, headers = headers, body = body, check = check }
end

local function byte_list(bytes) return "[" .. table.concat(bytes, ",") .. "]" end

-- Four shapes of a valid call: bytes or base64, hints 1 to 3, the dashed alias path.
local function valid(n)
  local bytes = input_bytes(n)
  local id = '{"kernel_id": "' .. kernel_id .. '", '
  local variant = n % 4
  local path, body, hint
  if variant == 0 then
    path, hint = DEVICE .. "/execute_kernel", 1
    body = id .. '"input_data": ' .. byte_list(bytes) .. ', "output_size_hint": 1}'
  elseif variant == 1 then
    path, hint = DEVICE .. "/execute_kernel", 1
    body = id .. '"input_base64": "' .. base64(bytes) .. '"}'
  elseif variant == 2 then
    path, hint = DEVICE .. "/execute-kernel", 2
    body = id .. '"input_data": ' .. byte_list(bytes) .. ', "output_size_hint": 2}'
  else
    path, hint = DEVICE .. "/execute_kernel", 3
    body = '{"output_size_hint": 3, "input_base64": "' .. base64(bytes) .. '", "kernel_id": "' .. kernel_id .. '"}'
  end
  return req("valid", "POST", path, JSON, body, expect_output(doubled(bytes, hint)))
end

-- Each invalid class: its variants as {method, path, body, status, code}; %s is the kernel ID.
local INVALID = {
  malformed_json = {
    { "POST", "/execute_kernel", '{"kernel_id": "%s", "input_data": [1,3', 400, "bad_request" },
    { "POST", "/execute_kernel", '{"kernel_id" "%s"}', 400, "bad_request" },
    { "POST", "/execute_kernel", 'kernel_id=%s&input_data=1', 400, "bad_request" },
    { "POST", "/execute_kernel", '{"kernel_id": "%s", "input_data": [1,2,],}', 400, "bad_request" },
  },
  wrong_type = {
    { "POST", "/execute_kernel", '{"kernel_id": 12345, "input_data": [1]}', 400, "bad_request" },
    { "POST", "/execute_kernel", '{"kernel_id": "%s", "input_data": [1, "x"]}', 400, "bad_request" },
    { "POST", "/execute_kernel", '{"kernel_id": "%s", "input_data": [256]}', 400, "bad_request" },
    { "POST", "/execute_kernel", '{"kernel_id": "%s", "input_data": [1], "output_size_hint": "lots"}', 400, "bad_request" },
    { "POST", "/execute_kernel", '{"kernel_id": "%s", "input_base64": 12}', 400, "bad_request" },
    { "POST", "/execute_kernel", '{"kernel_id": "%s", "input_data": {"0": 1}}', 400, "bad_request" },
  },
  missing_field = {
    { "POST", "/execute_kernel", '{}', 400, "bad_request" },
    { "POST", "/execute_kernel", '{"input_data": [1, 2, 3, 4]}', 400, "bad_request" },
    { "POST", "/execute_kernel", '{"kernel_id": "%s"}', 400, "bad_request" },
    { "POST", "/execute_kernel", '[]', 400, "bad_request" },
  },
  unknown_path = {
    { "POST", "/no_such_key", '{"kernel_id": "%s", "input_data": [1]}', 404, "not_found" },
    { "GET", "@/", "", 404, "not_found" },
    { "POST", "@/~other@1.0/execute_kernel", '{"kernel_id": "%s", "input_data": [1]}', 404, "not_found" },
    { "GET", "/execute_kernel/extra", "", 404, "not_found" },
  },
  -- execute_kernel wants a POST with a body; these methods bring none.
  wrong_method = {
    { "GET", "/execute_kernel", "", 400, "bad_request" },
    { "PUT", "/execute_kernel", "", 400, "bad_request" },
    { "DELETE", "/execute_kernel", "", 400, "bad_request" },
    { "PATCH", "/execute_kernel", "", 400, "bad_request" },
  },
  -- "%s!" is the ID and one more character: 44 characters, not an Arweave ID.
  bad_value = {
    { "POST", "/execute_kernel", '{"kernel_id": "not-an-id", "input_data": [1]}', 400, "invalid_argument" },
    { "POST", "/execute_kernel", '{"kernel_id": "%s!", "input_data": [1]}', 400, "invalid_argument" },
    { "POST", "/execute_kernel", '{"kernel_id": "%s", "input_base64": "!!!"}', 400, "bad_request" },
    { "POST", "/execute_kernel", '{"kernel_id": "%s", "input_data": []}', 400, "invalid_argument" },
    { "POST", "/execute_kernel", '{"kernel_id": "%s", "input_data": [1], "output_size_hint": 1000000000000}', 422, "limit_exceeded" },
  },
}
-- Through HyperBEAM (target "hyperbeam"), paths outside the device's keys are HyperBEAM's:
-- "/" redirects to its web UI (302) and an unknown device is HyperBEAM's 500 with a text
-- body, neither a device error, so both are left out; "/execute_kernel/extra" runs
-- execute_kernel on the GET's empty message before looking up "extra", so the device answers
-- that call's 400.
-- A key the device does not export is HyperBEAM's own 404 (body "not_found", no JSON object):
-- for those the status alone is checked.
local HYPERBEAM_UNKNOWN_PATH = {
  { "POST", "/no_such_key", '{"kernel_id": "%s", "input_data": [1]}', 404, nil },
  { "POST", "/execute_kernels", '{"kernel_id": "%s", "input_data": [1]}', 404, nil },
  { "GET", "/execute_kernel/extra", "", 400, "bad_request" },
}
local INVALID_SLOTS = { "malformed_json", "wrong_type", "missing_field", "unknown_path", "wrong_method", "bad_value" }

local function invalid(class, n)
  local variants = INVALID[class]
  local v = variants[n % #variants + 1]
  local method, path, body = v[1], v[2], v[3]
  -- A path starting with "@" is outside the device; the others are device keys.
  path = path:sub(1, 1) == "@" and path:sub(2) or DEVICE .. path
  body = body:gsub("%%s", kernel_id)
  local check = v[5] and expect_error(v[4], v[5]) or expect_status(v[4])
  return req(class, method, path, body ~= "" and JSON or NONE, body ~= "" and body or nil, check)
end

---------------------------------------------------------------------------------------------
-- wrk's hooks. setup() runs in wrk's main Lua state, the others in each thread's own.

local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  threads[#threads + 1] = thread
end

-- Globals read back by done() through thread:get(), which copies only numbers and strings
-- safely (wrk 4.1 corrupts the stack copying a table): answered, started_us, finished_us,
-- answered_CLASS and failed_CLASS counts, failure_1 .. failure_5 descriptions.
answered, failures = 0, 0
local CLASSES = { "valid", "malformed_json", "wrong_type", "missing_field", "unknown_path", "wrong_method", "bad_value" }
for _, class in ipairs(CLASSES) do _G["answered_" .. class], _G["failed_" .. class] = 0, 0 end

local share, seq, in_flight = 0, 0, nil

function init(args)
  local total, thread_count = tonumber(args[1]), tonumber(args[3])
  kernel_id = args[2]
  if args[4] == "hyperbeam" then INVALID.unknown_path = HYPERBEAM_UNKNOWN_PATH end
  share = math.floor(total / thread_count) + ((thread_index < total % thread_count) and 1 or 0)
end

-- wrk calls request() once more than it sends, in thread 0, to check the script; that
-- request is never sent, and responses are counted against the request last made.
function request()
  seq = seq + 1
  started_us = started_us or now_us()
  local n = thread_index * 1000003 + seq
  local slot = (seq + thread_index) % 16
  in_flight = slot < 10 and valid(n) or invalid(INVALID_SLOTS[slot - 9], n)
  return wrk.format(in_flight.method, in_flight.path, in_flight.headers, in_flight.body)
end

function response(status, headers, body)
  local r = in_flight
  answered = answered + 1
  _G["answered_" .. r.class] = _G["answered_" .. r.class] + 1
  local why = r.check(status, headers, body)
  if why then
    _G["failed_" .. r.class] = _G["failed_" .. r.class] + 1
    failures = failures + 1
    if failures <= 5 then _G["failure_" .. failures] = r.class .. " " .. r.method .. " " .. r.path .. ": " .. why end
  end
  if answered >= share then
    finished_us = now_us()
    io.stderr:write("KEMLOAD-DONE\n")
    wrk.thread:stop()
  end
end

---------------------------------------------------------------------------------------------
-- The summary, as one JSON line.

local function json(v)
  if type(v) == "table" then
    local parts, is_array = {}, #v > 0
    if is_array then
      for _, x in ipairs(v) do parts[#parts + 1] = json(x) end
      return "[" .. table.concat(parts, ",") .. "]"
    end
    for k, x in pairs(v) do parts[#parts + 1] = json(tostring(k)) .. ":" .. json(x) end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif type(v) == "string" then
    return '"' .. v:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
  elseif v == nil then
    return "null"
  end
  return string.format("%.17g", v)
end

function done(summary, latency, requests)
  local classes, all_failures, answered_total, first, last, unfinished = {}, {}, 0, nil, nil, 0
  for _, class in ipairs(CLASSES) do classes[class] = { answered = 0, failed = 0 } end
  for _, t in ipairs(threads) do
    for _, class in ipairs(CLASSES) do
      local sum = classes[class]
      sum.answered = sum.answered + t:get("answered_" .. class)
      sum.failed = sum.failed + t:get("failed_" .. class)
    end
    for i = 1, math.min(t:get("failures"), 5) do
      if #all_failures < 20 then all_failures[#all_failures + 1] = t:get("failure_" .. i) end
    end
    answered_total = answered_total + t:get("answered")
    local s, f = t:get("started_us"), t:get("finished_us")
    if s and (not first or s < first) then first = s end
    if not f then unfinished = unfinished + 1 elseif not last or f > last then last = f end
  end
  local result = {
    answered = answered_total, classes = classes, failures = all_failures,
    unfinished_threads = unfinished,
    elapsed_us = (first and last) and (last - first) or 0,
    wrk_requests = summary.requests, errors = summary.errors,
    latency_us = { p50 = latency:percentile(50), p90 = latency:percentile(90),
                   p99 = latency:percentile(99), max = latency.max, mean = latency.mean },
  }
  io.write("KEMLOAD-RESULT ", json(result), "\n")
end
