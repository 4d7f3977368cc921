#!/usr/bin/env bash
# Runs every test suite: the C++ suites (ctest) in a warnings-as-errors build, again under
# AddressSanitizer + UndefinedBehaviorSanitizer, then the Erlang (EUnit) and Lua suites, then
# everything through a real HyperBEAM node (tests/hyperbeam/run.sh: OTP 27, GCC 14).
# Installs and builds whatever is missing first. Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --no-build
jobs=$(nproc)

section() { printf '\n==== %s ====\n' "$*"; }

build_and_test() {  # build-dir, cmake args...
  local dir=$1
  shift
  if [[ ! -f $dir/build.ninja ]]; then
    cmake -S . -B "$dir" -G Ninja -DKEM_WERROR=ON -DKEM_BUILD_BENCH=OFF "$@" >/dev/null
  fi
  cmake --build "$dir" --parallel "$jobs" 2>&1 | { grep -vE '^\[[0-9]+/[0-9]+\] ' || true; }
  (cd "$dir" && ctest --output-on-failure --parallel "$jobs" --timeout 900)
}

section "C++ suites (release build, warnings as errors)"
build_and_test build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo

section "C++ suites under AddressSanitizer + UndefinedBehaviorSanitizer"
# Leak detection is off: Dawn and the Vulkan driver are not instrumented and keep allocations
# for the life of the process, which LeakSanitizer would report as ours.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
build_and_test build-asan -DCMAKE_BUILD_TYPE=Debug -DKEM_SANITIZE=ON
unset ASAN_OPTIONS UBSAN_OPTIONS

if [[ -x erlang/kem/test.sh ]]; then
  section "Erlang suites (rebar3 eunit)"
  erlang/kem/test.sh
fi
# Correctness under load (every reply checked, the VM back at its baseline); its figures are
# printed, never asserted. About half a minute here.
section "HTTP endpoint under load and faults (bench/http-load)"
bench/http-load/run.sh
if [[ -x lua/test.sh ]]; then
  section "Lua suites"
  lua/test.sh
fi
section "Through a real HyperBEAM node (tests/hyperbeam/run.sh)"
tests/hyperbeam/run.sh
section "all suites passed"
