#!/usr/bin/env bash
# The hostile-client suite of KEM's HTTP endpoint (issue 14): oversize and hostile JSON,
# oversize bodies (Content-Length, chunked), many slow-body and slow-header connections, too
# many connections from one address, a caller asking for a 24 h timeout; legitimate calls
# measured throughout. Loopback only (127.0.0.1-10). Takes about 30 s on 2 cores.
# Exits non-zero if any check fails. See kem_http_hostile.erl.
# Usage: bench/http-hostile/run.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

scripts/setup.sh --no-build
(cd erlang/kem && rebar3 compile)
http_deps=$(sh erlang/kem/build_http_deps.sh)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The test environment (pins, loopback gateway) and the CPU reference come from the Erlang
# suites; kem_test_env finds the repository's kernels from its source path.
erlc -o "$work" erlang/kem/test/kem_test_env.erl erlang/kem/test/kem_ref.erl \
  bench/http-hostile/hostile_client.erl bench/http-hostile/kem_http_hostile.erl
# A crash dump, if the VM dies, goes to the temporary folder; its exit status fails the run.
# timeout: a last bound on the whole run.
ERL_LIBS=$http_deps ERL_CRASH_DUMP="$work/erl_crash.dump" timeout 300 \
  erl -noshell +K true -pa erlang/kem/_build/default/lib/kem/ebin -pa "$work" \
      -run kem_http_hostile main
