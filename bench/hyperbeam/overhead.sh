#!/usr/bin/env bash
# Where a small call's time goes through HyperBEAM: requests/s and latency of three requests
# against the main job's node (scripts/run-node.sh), then of the same kem call against KEM's
# own endpoint (the main job's fallback), one after the other in one run:
#   GET  /~meta@1.0/info          HyperBEAM alone (no kem@1.0 code)
#   GET  /~kem@1.0/info           through kem@1.0, no GPU work
#   POST /~kem@1.0/execute_kernel the proof of concept's call (4 bytes doubled on the GPU)
# wrk runs inside the node's namespace (no forwarder in the way) for DURATION seconds each with
# CONNECTIONS connections. Figures only: nothing is asserted.
# Usage: bench/hyperbeam/overhead.sh [DURATION [CONNECTIONS]]   (default 10 16)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
duration=${1:-10}
connections=${2:-16}
trap 'scripts/run-node.sh --stop >/dev/null 2>&1 || true' EXIT

measure() {  # LABEL, then wrk's arguments; prints one table row
  local label=$1 out
  shift
  out=$("$@" 2>&1)
  local rps p50 p99 non2xx
  rps=$(awk '/^Requests\/sec:/ { printf "%d", $2 }' <<<"$out")
  p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
  p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
  non2xx=$(awk '/Non-2xx/ { print $NF }' <<<"$out")
  printf '| %s | %s | %s | %s | %s |\n' "$label" "$rps" "$p50" "$p99" "${non2xx:-0}"
}
wrk_args=(-t "$connections" -c "$connections" -d "${duration}s" --latency)

scripts/run-node.sh --detach >/dev/null
echo "| request | req/s | p50 | p99 | non-2xx |"
echo "| --- | --- | --- | --- | --- |"
ns=(ip netns exec kem-hb)
measure "HyperBEAM: GET /~meta@1.0/info" "${ns[@]}" wrk "${wrk_args[@]}" http://127.0.0.1:10001/~meta@1.0/info
measure "HyperBEAM: GET /~kem@1.0/info" "${ns[@]}" wrk "${wrk_args[@]}" http://127.0.0.1:10001/~kem@1.0/info
measure "HyperBEAM: POST /~kem@1.0/execute_kernel" "${ns[@]}" wrk "${wrk_args[@]}" \
  -s bench/hyperbeam/post.lua http://127.0.0.1:10001/~kem@1.0/execute_kernel
scripts/run-node.sh --stop >/dev/null 2>&1
KEM_HB_SHARED=/nonexistent scripts/run-node.sh --detach >/dev/null 2>&1
measure "KEM's endpoint: GET /~kem@1.0/info" wrk "${wrk_args[@]}" http://127.0.0.1:10001/~kem@1.0/info
measure "KEM's endpoint: POST /~kem@1.0/execute_kernel" wrk "${wrk_args[@]}" \
  -s bench/hyperbeam/post.lua http://127.0.0.1:10001/~kem@1.0/execute_kernel
