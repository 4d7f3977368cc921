#!/usr/bin/env bash
# Runs on the GPU machine, from a tree carrying .device/ (or KEM_DEVICE_DIR: binaries built here, plus
# libwebgpu_wrapper.so and the shared libraries they need) and .gl/ (the Vulkan loader debs).
# Prepare it with bench/prepare-gpu-run.sh. Everything goes to $OUT when set:
#   machine.txt adapter.json tests.txt        the machine, `kem info`, the executor tests
#   bench-<group>.json / .txt                 kem_bench (Google Benchmark), one process per group
#   torch.json torch.log                      bench/torch_peer.py (PyTorch peer)
#   report.md                                 bench/report.py over all of the above
#   run.tgz                                   all of the above in one archive (the device tool
#                                             returns at most 8 files)
# The whole run stays under KEM_RUN_BUDGET_S seconds (default 450): every step has its own
# cap and gets no more than what is left, keeping 20 s for the report.
# Environment: KEM_BENCH_REPETITIONS (5), KEM_BENCH_MIN_TIME (0.5 s), KEM_BENCH_FMA_ITERATIONS
# (16384, also passed to the PyTorch peer), KEM_BENCH_GROUPS (kem_bench groups to run, default
# "transfer poc concurrency-compute cold-metering kernel-shapes others"), KEM_RUN_TESTS=0 and KEM_RUN_TORCH=0
# to leave those steps out.
set -uo pipefail
start=$SECONDS
budget=${KEM_RUN_BUDGET_S:-450}
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
# RUNPATH ($ORIGIN) covers direct dependencies only; libcurl's own libraries are found here.
dev=${KEM_DEVICE_DIR:-.device}
export LD_LIBRARY_PATH=$(cd "$dev" && pwd)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export KEM_BENCH_FMA_ITERATIONS=${KEM_BENCH_FMA_ITERATIONS:-16384}
out=${OUT:-/tmp/kem-out}
mkdir -p "$out"

# Seconds a step may take: its own cap, or what is left of the budget (20 s kept for the report).
cap() {
  local left=$((budget - (SECONDS - start) - 20))
  ((left < 5)) && left=5
  echo $(($1 < left ? $1 : left))
}

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/machine.txt"
nproc | sed 's/^/cpus: /' | tee -a "$out/machine.txt"
echo "== kem info"; timeout 60 "$dev"/kem info | tee "$out/adapter.json"
echo "== double-integer"; printf '\x01\x03\x05\x07' | timeout 60 "$dev"/kem run kernels/double-integer.wgsl --hint 1 --format hex
if [[ ${KEM_RUN_TESTS:-1} != 0 ]]; then
  echo "== executor tests"
  timeout "$(cap 120)" "$dev"/kem_executor_tests --gtest_brief=1 >"$out/tests.txt" 2>&1
  echo "exit status $?" >>"$out/tests.txt"
  tail -n 15 "$out/tests.txt"
fi

# kem_bench in groups, one process each, so that a group cut short by its cap costs only its
# own JSON (Google Benchmark closes the file at the end).
bench_group() {  # name, cap in seconds, filter
  local name=$1 limit=$2 filter=$3
  [[ " ${KEM_BENCH_GROUPS:-$name} " == *" $name "* ]] || return 0
  echo "== kem_bench $name (up to $(cap "$limit") s)"
  timeout "$(cap "$limit")" "$dev"/kem_bench --benchmark_filter="$filter" \
    --benchmark_repetitions="${KEM_BENCH_REPETITIONS:-5}" --benchmark_min_time="${KEM_BENCH_MIN_TIME:-0.5}" \
    --benchmark_report_aggregates_only=false --benchmark_display_aggregates_only=true \
    --benchmark_out="$out/bench-$name.json" --benchmark_out_format=json >"$out/bench-$name.txt" 2>&1
  local status=$?
  ((status != 0)) && echo "kem_bench $name: exit status $status" | tee -a "$out/bench-$name.txt"
  grep -E '_median|ERROR' "$out/bench-$name.txt" | awk '!seen[$0]++'
}
known='BM_(ColdExecutorAndCall|LoopHeavy|PocDesign|WarmCall|RawDawn|RawDawnKernelOnly|WarmConcurrent|ComputeWarm|ComputeRawDawn|StagedSweep|KernelShape)'
bench_group transfer 200 '^BM_(WarmCall|RawDawn|RawDawnKernelOnly)/'
bench_group poc 120 '^BM_PocDesign/'
bench_group concurrency-compute 90 '^BM_(WarmConcurrent|ComputeWarm|ComputeRawDawn)(/|$)'
bench_group cold-metering 60 '^BM_(ColdExecutorAndCall|LoopHeavy)(/|$)'
# Issue 18: kernels alone (bench/kernel_shape_bench.cpp), the variants the report compares.
bench_group kernel-shapes 150 '^BM_KernelShape/(fma/(as_written|metered)|double/(u32|u32_metered|vec4|vec4_metered|device_copy))/'
# Anything else in kem_bench (benchmarks added by other files), by family name.
others=$("$dev"/kem_bench --benchmark_list_tests 2>/dev/null | cut -d/ -f1 | sort -u | grep -vxE "$known" | paste -sd'|')
[[ -n $others ]] && bench_group others 120 "^($others)(/|$)"
# The staging settings sweep (bench/transfer_sweep_bench.cpp, ~2 min): only when named, as in
# KEM_BENCH_GROUPS=staged-sweep; its iterations and repetitions are fixed in the file.
[[ " ${KEM_BENCH_GROUPS:-} " == *" staged-sweep "* ]] && bench_group staged-sweep 240 '^BM_StagedSweep/'

if [[ ${KEM_RUN_TORCH:-1} != 0 ]]; then
  echo "== PyTorch peer (up to $(cap 150) s)"
  timeout "$(cap 150)" python3 bench/torch_peer.py --out "$out/torch.json" \
    --repetitions "${KEM_BENCH_REPETITIONS:-5}" --min-time "${KEM_BENCH_MIN_TIME:-0.5}" \
    --fma-iterations "$KEM_BENCH_FMA_ITERATIONS" 2>"$out/torch.log"
  status=$?
  tail -n 3 "$out/torch.log"
  # torch.json is rewritten after every figure: a run cut short keeps what it measured.
  echo "torch_peer: exit status $status" | tee -a "$out/torch.log"
fi

echo "== report"
inputs=()
for f in "$out"/bench-*.json "$out/torch.json" "$out/adapter.json"; do
  # A step cut short leaves a file that is not JSON; the report goes without it.
  [[ -s $f ]] && python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$f" 2>/dev/null && inputs+=("$f")
done
python3 bench/report.py "${inputs[@]}" >"$out/report.md" && cat "$out/report.md"
# The device tool brings back only a few files from $OUT: everything also goes as one archive.
tar czf "${TMPDIR:-/tmp}/kem-run.tgz" --exclude=run.tgz -C "$out" . && mv "${TMPDIR:-/tmp}/kem-run.tgz" "$out/run.tgz"
echo "== done in $((SECONDS - start)) s"
