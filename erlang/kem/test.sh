#!/bin/sh
# Builds the NIF (through rebar3's pre-hook) and runs the Erlang suites with EUnit.
# Usage: erlang/kem/test.sh [rebar3 eunit options, e.g. --module=kem_http_tests]
#   (from anywhere; KEM_BUILD_PARALLEL=N to change build jobs)
set -eu
cd "$(dirname "$0")"
# Cowboy, for KEM's HTTP endpoint, from ../shared (build_http_deps.sh).
ERL_LIBS=$(sh build_http_deps.sh)${ERL_LIBS:+:$ERL_LIBS}
export ERL_LIBS
rebar3 eunit "$@"
