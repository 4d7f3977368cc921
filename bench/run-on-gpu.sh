#!/usr/bin/env bash
# Runs on the GPU machine, from a tree carrying .device/ (binaries built here, plus
# libwebgpu_wrapper.so and the shared libraries they need) and .gl/ (the Vulkan loader debs).
# Prepare it with bench/prepare-gpu-run.sh. Results go to $OUT when set.
set -uo pipefail
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
# RUNPATH ($ORIGIN) covers direct dependencies only; libcurl's own libraries are found here.
export LD_LIBRARY_PATH=$PWD/.device${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
out=${OUT:-/tmp/kem-out}
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/machine.txt"
echo "== kem info"; .device/kem info | tee "$out/adapter.json"
echo "== double-integer"; printf '\x01\x03\x05\x07' | .device/kem run kernels/double-integer.wgsl --hint 1 --format hex
echo "== executor tests"; .device/kem_executor_tests --gtest_brief=1 2>&1 | tail -n 15
echo "== bench"; .device/kem_bench --benchmark_repetitions=${KEM_BENCH_REPETITIONS:-5} \
  --benchmark_report_aggregates_only=true --benchmark_out="$out/bench.json" --benchmark_out_format=json \
  ${KEM_BENCH_FILTER:+--benchmark_filter=$KEM_BENCH_FILTER} 2>&1 | grep -E 'median|cv|Cold|^---|^Bench' 
