-- A tiny test harness: test(name, fn) runs fn and records failures; done() prints a summary
-- and exits non-zero when anything failed.
local harness = { passed = 0, failed = 0 }

function harness.test(name, fn)
  local ok, err = pcall(fn)
  if ok then
    harness.passed = harness.passed + 1
  else
    harness.failed = harness.failed + 1
    io.stderr:write(("FAIL %s: %s\n"):format(name, tostring(err)))
  end
end

function harness.eq(expected, actual, what)
  local function show(v)
    if type(v) == "table" then
      local parts = {}
      for i, x in ipairs(v) do parts[i] = tostring(x) end
      return "{" .. table.concat(parts, ",") .. "}"
    end
    return ("%q"):format(tostring(v))
  end
  if show(expected) ~= show(actual) then
    error(("%s: expected %s, got %s"):format(what or "value", show(expected), show(actual)), 2)
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
  print(("%s: %d passed, %d failed"):format(suite, harness.passed, harness.failed))
  os.exit(harness.failed == 0 and 0 or 1)
end

return harness
