#!/usr/bin/env bash
# KEM inside a real HyperBEAM node (issue 12). Builds the node (scripts/hb/build.sh), then, in
# a loopback-only network namespace of its own:
#   1. kem_hb_tests with the operator's one-line hb_opts change (kem@1.0 among HyperBEAM's
#      default devices): every HTTP case, the image call, the store, an ao process through
#      ao.resolve; and again without the change (ao.resolve is refused, HTTP still works);
#   2. docs/hyperbeam.md's walkthrough: every command it shows, run against a node started as
#      the main job starts one, its output compared with what the page says;
#   3. wrk load through the node, every reply checked, the VM back at its baseline, the store
#      unchanged (bench/http-load in its "hyperbeam" mode);
#   4. KEM's EUnit suites on OTP 27 against HyperBEAM's real hb_ao and hb_json;
#   5. lua/ suites under HyperBEAM's own luerl build.
# Every process it starts is stopped by PID; the namespace is removed at the end.
#   6. the main job's fallback: KEM's own endpoint when HyperBEAM cannot be built.
# Usage: tests/hyperbeam/run.sh [LOAD_TOTAL [LOAD_CONNECTIONS]]   (default 1600 64)
set -euo pipefail
hb_root=$(cd "$(dirname "$0")/../.." && pwd)
source "$hb_root/scripts/hb/chroot.sh"
cd "$hb_root"
load_total=${1:-1600}   # 1,000 of them valid kem@1.0 calls (10 of every 16)
load_connections=${2:-64}

section() { printf '\n---- %s ----\n' "$*"; }

scripts/hb/build.sh
hb_env_ready
ns=kem-hb-test-$$
work=build-hb/test-run
rm -rf "$work"
mkdir -p "$work/ebin"
scripts/hb/node.sh netns "$ns"
cleanup() {
  local status=$?
  scripts/hb/node.sh stop docs-node 2>/dev/null || true
  ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  exit $status
}
trap cleanup EXIT

# The test modules and the CPU references they compare with, compiled with OTP 27.
hb_exec "erlc +warnings_as_errors -o $work/ebin tests/hyperbeam/kem_hb_tests.erl \
  erlang/kem/test/kem_ref.erl erlang/kem/test/kem_png_ref.erl erlang/kem/test/kem_test_env.erl \
  bench/http-load/kem_http_load.erl"

# Every application of the HyperBEAM build and the test modules (hb_code_path).
code_path() { hb_code_path "$@" "$hb_root/$work/ebin"; }

# in_node_vm PORT DIR ERL_ARGS...: an OTP 27 VM inside the namespace (and the chroot), as the
# node's VM. A last bound (timeout) keeps a hung VM from holding CI.
in_node_vm() {
  local port=$1 dir=$2 limit=$3
  shift 3
  mkdir -p "$dir"
  KEM_VM_CMD="exec env HB_PRINT=error KEM_REPO_DIR=$hb_root KEM_HB_TEST_DIR=$hb_root/$dir KEM_HB_TEST_PORT=$port \
    ERL_CRASH_DUMP=$hb_root/$dir/erl_crash.dump timeout $limit erl -noshell -noinput $*" \
  hb_use_chroot=$hb_use_chroot \
    ip netns exec "$ns" bash -c 'source scripts/hb/chroot.sh; hb_exec_replace "$KEM_VM_CMD"'
}
eunit_cmd='-eval "case eunit:test(kem_hb_tests, [verbose]) of ok -> halt(0); _ -> halt(1) end."'

section "kem_hb_tests, with kem@1.0 in HyperBEAM's default devices"
in_node_vm 10101 "$work/with-change" 600 "$(code_path with-kem-defaults)" "$eunit_cmd"

section "kem_hb_tests, HyperBEAM's default devices unchanged"
in_node_vm 10111 "$work/without-change" 300 "$(code_path)" "$eunit_cmd"

section "docs/hyperbeam.md walkthrough against a node started as the main job does"
# (the main job's own namespace, kem-hb, and port 10001, as a user runs it)
tests/hyperbeam/docs_walkthrough.sh

section "load through HyperBEAM: $load_total requests over $load_connections connections"
in_node_vm 10121 "$work/load" 600 "$(code_path)" \
  -run kem_http_load main "$hb_root" "$hb_root/bench/http-load/load.lua" "$load_total" \
  "$load_connections" hyperbeam 10121 "$hb_root/$work/load"

section "KEM's EUnit suites on OTP 27 against HyperBEAM's hb_ao and hb_json"
tests/hyperbeam/kem_eunit_otp27.sh

section "lua/ suites under HyperBEAM's luerl"
luerl_ebin=build-hb/HyperBEAM/_build/default/checkouts/luerl/ebin
hb_exec "escript lua/tests/luerl_check.escript $luerl_ebin"

section "the main job's fallback: KEM's own endpoint where HyperBEAM cannot be built"
fallback=$(KEM_HB_SHARED=/nonexistent scripts/run-node.sh --once 2>"$work/fallback.log") || {
  cat "$work/fallback.log"; exit 1; }
grep -q "serving KEM's own endpoint instead" "$work/fallback.log" || {
  echo "the fallback did not say it served KEM's own endpoint"; cat "$work/fallback.log"; exit 1; }
[[ $(head -1 <<<"$fallback") == " 02 06 0a 0e" ]] || {
  echo "the fallback answered: $fallback"; exit 1; }
echo "fallback: the seed's request answered 02 06 0a 0e from KEM's own endpoint"

section "HyperBEAM suites passed"
