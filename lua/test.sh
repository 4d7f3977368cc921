#!/bin/sh
# Lua 5.3 suites: the unit tests of kem.lua, and, when KEM_HTTP_PORT names a running KEM
# endpoint, the end-to-end test of kem-device.lua. (erlang/kem's EUnit run starts an endpoint
# and runs both: kem_lua_tests.)
set -eu
cd "$(dirname "$0")"
lua5.3 tests/kem_test.lua
if [ -n "${KEM_HTTP_PORT:-}" ]; then
  lua5.3 tests/e2e_test.lua "$KEM_HTTP_PORT"
fi
