-- A tiny test harness: test(name, fn) runs fn and records failures; done() prints a summary
-- and exits non-zero when anything failed. Under luerl (tests/luerl_check.escript sets the
-- global HARNESS_RETURN) done() returns the summary and the failures instead: luerl's io has
-- no stderr and its os.exit does not end the VM.
local harness = { passed = 0, failed = 0, failures = {} }

function harness.test(name, fn)
  local ok, err = pcall(fn)
  if ok then
    harness.passed = harness.passed + 1
  else
    harness.failed = harness.failed + 1
    local text = tostring(err)          -- luerl's badarg messages quote whole arguments
    if #text > 600 then text = text:sub(1, 600) .. "... (" .. #text .. " chars)" end
    local line = ("FAIL %s: %s"):format(name, text)
    harness.failures[#harness.failures + 1] = line
    if io.stderr then io.stderr:write(line .. "\n") end
  end
end

local function show(v)
  if type(v) == "table" then
    local parts = {}
    for i, x in ipairs(v) do parts[i] = tostring(x) end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  return ("%q"):format(tostring(v))
end

-- Long values (10,000 bytes...) are cut in messages; for arrays the first difference is named.
local function brief(text)
  if #text > 200 then return text:sub(1, 200) .. "... (" .. #text .. " chars)" end
  return text
end

function harness.eq(expected, actual, what)
  if show(expected) ~= show(actual) then
    local where = ""
    if type(expected) == "table" and type(actual) == "table" then
      local i = 1
      while i <= math.max(#expected, #actual) and expected[i] == actual[i] do i = i + 1 end
      where = (" (lengths %d and %d, first difference at [%d]: %s vs %s)"):format(
        #expected, #actual, i, tostring(expected[i]), tostring(actual[i]))
    end
    error(("%s: expected %s, got %s%s"):format(what or "value", brief(show(expected)),
      brief(show(actual)), where), 2)
  end
end

function harness.raises(fn, pattern)
  local ok, err = pcall(fn)
  if ok then error("expected an error", 2) end
  if pattern and not tostring(err):find(pattern) then
    error(("error %q does not match %q"):format(tostring(err), pattern), 2)
  end
end

function harness.done(suite)
  local summary = ("%s: %d passed, %d failed"):format(suite, harness.passed, harness.failed)
  if HARNESS_RETURN then
    return summary, harness.failed, table.concat(harness.failures, "\n")
  end
  print(summary)
  os.exit(harness.failed == 0 and 0 or 1)
end

return harness
