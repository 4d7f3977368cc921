#!/bin/sh
# Lua suites: the unit tests of kem.lua and of the bundled process script (sh bundle.sh) under
# Lua 5.3; under luerl 1.3.0 (HyperBEAM's Lua VM) when KEM_LUERL_EBIN names luerl's ebin dir
# (see tests/luerl_check.escript); and, when KEM_HTTP_PORT names a running KEM endpoint, the
# end-to-end test of kem-device.lua. (erlang/kem's EUnit run starts an endpoint and runs the
# Lua 5.3 suites: kem_lua_tests.)
#   KEM_LUERL_EBIN=/path/to/luerl/ebin lua/test.sh
set -eu
case "${KEM_LUERL_EBIN:-}" in
  "" | /*) ;;
  *) KEM_LUERL_EBIN="$PWD/$KEM_LUERL_EBIN" ;;   # relative to where test.sh was started
esac
cd "$(dirname "$0")"
lua5.3 tests/kem_test.lua
bundle=$(mktemp)
trap 'rm -f "$bundle"' EXIT
sh bundle.sh > "$bundle"
lua5.3 tests/bundle_test.lua "$bundle"
if [ -n "${KEM_LUERL_EBIN:-}" ]; then
  escript tests/luerl_check.escript "$KEM_LUERL_EBIN"
else
  echo "luerl check not run here: set KEM_LUERL_EBIN to luerl 1.3.0's ebin dir (tests/hyperbeam/run.sh runs it with HyperBEAM's own luerl)"
fi
if [ -n "${KEM_HTTP_PORT:-}" ]; then
  lua5.3 tests/e2e_test.lua "$KEM_HTTP_PORT"
fi
