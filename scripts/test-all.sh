#!/usr/bin/env bash
# Runs every test suite: the C++ suites (ctest) in a warnings-as-errors build, again under
# AddressSanitizer + UndefinedBehaviorSanitizer, then the Erlang (EUnit) and Lua suites, then
# everything through a real HyperBEAM node (tests/hyperbeam/run.sh: OTP 27, GCC 14).
# Installs and builds whatever is missing first. Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --no-build
section() { printf '\n==== %s ====\n' "$*"; }

section "C++ suites (release build, warnings as errors)"
scripts/cxx-suites.sh build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo

section "C++ suites under AddressSanitizer + UndefinedBehaviorSanitizer"
# Leak detection is off: Dawn and the Vulkan driver are not instrumented and keep allocations
# for the life of the process, which LeakSanitizer would report as ours.
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  scripts/cxx-suites.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DKEM_SANITIZE=ON

section "C++ suites with a second toolchain: GCC 14 and Debian 13's libraries (trixie chroot)"
(source scripts/hb/chroot.sh && hb_env_ready &&
   hb_exec "scripts/cxx-suites.sh build-gcc14 -DCMAKE_BUILD_TYPE=RelWithDebInfo")

if [[ -x erlang/kem/test.sh ]]; then
  section "Erlang suites (rebar3 eunit)"
  erlang/kem/test.sh
fi
# Correctness under load (every reply checked, the VM back at its baseline); its figures are
# printed, never asserted. About half a minute here.
section "HTTP endpoint under load and faults (bench/http-load)"
bench/http-load/run.sh
# Hostile clients (issue 14): bounded JSON and bodies, slow clients, caller limits; every
# refusal checked, legitimate calls measured throughout. About half a minute here.
section "HTTP endpoint against hostile clients (bench/http-hostile)"
bench/http-hostile/run.sh
if [[ -x lua/test.sh ]]; then
  section "Lua suites"
  lua/test.sh
fi
section "Through a real HyperBEAM node (tests/hyperbeam/run.sh)"
tests/hyperbeam/run.sh
section "all suites passed"
