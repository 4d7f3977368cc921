#!/bin/sh
# Builds the NIF (through rebar3's pre-hook) and runs the Erlang suites with EUnit.
# Usage: erlang/kem/test.sh   (from anywhere; KEM_BUILD_PARALLEL=N to change build jobs)
set -eu
cd "$(dirname "$0")"
rebar3 eunit
