#!/usr/bin/env bash
# Issue 18, part 4, on the GPU machine: the NIF's 4-byte call and its 64-process throughput beside
# the C++ service they go through, in one run. Needs .device-nif/ (bench/nif-cost/prepare-gpu-run.sh)
# and .gl/ (the Vulkan loader debs) carried. Alternates NIF_COST_ROUNDS (6) rounds of
#   C++  Service::submit + completion, devices in-process  |  the same through the GPU worker
#   process (issue 16)  |  Erlang kem_nif:nif_execute + receive
# (NIF_COST_CALLS, 3000 per round, after NIF_COST_WARMUP, 500), then 64 callers for
# NIF_COST_SECONDS (5) each way: C++ threads, Erlang processes. Prints the summary; samples in $OUT.
# Then the worker link alone and the fairness benchmark (below).
set -euo pipefail
cd "$(dirname "$0")/../.."
for f in .gl/*.deb .device-nif/debs/*.deb; do dpkg -x "$f" /; done
ldconfig
export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
dev=$(cd .device-nif && pwd)
export LD_LIBRARY_PATH=$dev/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
rounds=${NIF_COST_ROUNDS:-6} calls=${NIF_COST_CALLS:-3000} warmup=${NIF_COST_WARMUP:-500}
seconds=${NIF_COST_SECONDS:-5}
samples=${OUT:-/tmp/nif-cost}/samples
mkdir -p "$samples"
kernel=$PWD/kernels/double-integer.wgsl
erl_run() { erl -noshell -pa "$dev/kem/ebin" -eval "$1, halt()." 2>&1; }
for r in $(seq 1 "$rounds"); do
  echo "== round $r of $rounds"
  "$dev/kem_nif_cost" service-inprocess "$calls" "$warmup" "$samples/cpp-service-inprocess.$r"
  "$dev/kem_nif_cost" service "$calls" "$warmup" "$samples/cpp-service.$r"
  erl_run "nif_cost:main([nif, \"$kernel\", $calls, $warmup, \"$samples/erlang-nif.$r\"])"
done
"$dev/kem_nif_cost" service-threads-inprocess 64 "$seconds"
"$dev/kem_nif_cost" service-threads 64 "$seconds"
erl_run "0 = nif_cost:concurrent([64, \"$kernel\", $seconds])"
python3 bench/nif-cost/summarize.py "$samples" "$rounds"
# The link alone (issue 16), then small calls beside a heavy neighbour (issue 17), through the
# worker and in-process. NIF_COST_FAIRNESS=0 leaves the latter out.
"$dev/kem_channel_bench" 6 20000 100
if [ "${NIF_COST_FAIRNESS:-1}" != 0 ]; then
  "$dev/kem_fairness_bench"
  "$dev/kem_fairness_bench" --in-process
fi
