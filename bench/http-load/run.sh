#!/usr/bin/env bash
# The HTTP endpoint's load and fault test (issue 5): wrk sends TOTAL mixed valid and invalid
# requests over CONNECTIONS connections to KEM's own endpoint on 127.0.0.1, first with the
# kernel's loopback gateway up, then with it down (the kernel then comes from KEM's cache).
# Every reply is checked (valid ones against the CPU's answer, invalid ones for their 4xx and
# JSON error); the VM must come back to its baseline memory, processes, ports and atoms.
# Prints throughput and latency percentiles; exits non-zero if anything is wrong.
#
# Usage: bench/http-load/run.sh [TOTAL [CONNECTIONS]]    (default 20000 64)
# Installs and builds what is missing (scripts/setup.sh --no-build, rebar3 compile) first.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
total=${1:-20000}
connections=${2:-64}

scripts/setup.sh --no-build
# The kem application and its NIF, as an operator builds them (rebar3's default profile).
(cd erlang/kem && rebar3 compile)
# Cowboy, which KEM's endpoint runs on, built from ../shared (erlang/kem/build_http_deps.sh).
http_deps=$(sh erlang/kem/build_http_deps.sh)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
erlc -o "$work" bench/http-load/kem_http_load.erl
# A crash dump, if the VM dies, goes to the temporary folder; its exit status fails the run.
# timeout: a last bound on the whole run (it takes well under a minute here).
ERL_LIBS=$http_deps ERL_CRASH_DUMP="$work/erl_crash.dump" timeout 600 \
  erl -noshell -pa erlang/kem/_build/default/lib/kem/ebin -pa "$work" \
      -run kem_http_load main "$root" "$root/bench/http-load/load.lua" "$total" "$connections"
