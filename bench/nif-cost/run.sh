#!/usr/bin/env bash
# Issue 6, part 3: what the Erlang NIF adds to a 4-byte call, measured in one run on this
# machine. Builds the NIF (the kem_nif target that rebar3's build_nif.sh builds, here in a
# private build folder so that erlang/kem/priv is left alone) and kem_nif_cost (C++), compiles
# erlang/kem/src into a private ebin, then alternates rounds of
#   C++  Executor::submit + completion  |  Erlang kem_nif:nif_execute + receive
#   C++  Executor::run                  |  Erlang kem:execute({source, _}, _)
# (one OS process per round and side, each with its own warm executor, same kernel, input and
# options) and prints the medians over all rounds and the differences. On a shared machine the
# per-round medians jump with the load; the median of per-round differences (paired rounds)
# is the figure that resists it best.
# Environment: KEM_BUILD_DIR (build-bench), NIF_COST_ROUNDS (10), NIF_COST_CALLS (2000 per round),
# NIF_COST_WARMUP (500), KEM_ADAPTER (as everywhere).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
build=${KEM_BUILD_DIR:-build-bench}
rounds=${NIF_COST_ROUNDS:-10}
calls=${NIF_COST_CALLS:-2000}
warmup=${NIF_COST_WARMUP:-500}

if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKEM_BUILD_BENCH=ON -DKEM_BUILD_NIF=ON >/dev/null
else
  cmake "$build" -DKEM_BUILD_NIF=ON -DKEM_BUILD_BENCH=ON >/dev/null
fi
cmake --build "$build" --target kem_nif kem_nif_cost --parallel "${KEM_BUILD_PARALLEL:-2}" |
  { grep -vE '^\[[0-9]+/[0-9]+\] ' || true; }

# A private copy of the application: code:priv_dir(kem) finds kem/priv beside kem/ebin.
app=$build/nif-cost/kem
rm -rf "$build/nif-cost" && mkdir -p "$app/ebin" "$app/priv"
erlc -o "$app/ebin" erlang/kem/src/*.erl bench/nif-cost/nif_cost.erl
# kem_config loads the application once per node (the first read): with a kem.app in the code
# path it reads its environment from there, as on a node.
cp erlang/kem/src/kem.app.src "$app/ebin/kem.app"
cp "$build/erlang/kem/c_src/kem_nif.so" "$app/priv/"

samples=$build/nif-cost/samples
mkdir -p "$samples"
kernel=$root/kernels/double-integer.wgsl
erl_round() {  # mode
  erl -noshell -pa "$app/ebin" -eval \
    "nif_cost:main([$1, \"$kernel\", $calls, $warmup, \"$samples/erlang-$1.$r\"]), halt()." 2>&1
}
for r in $(seq 1 "$rounds"); do
  echo "== round $r of $rounds"
  "$build/bench/kem_nif_cost" submit "$calls" "$warmup" "$samples/cpp-submit.$r"
  erl_round nif
  "$build/bench/kem_nif_cost" run "$calls" "$warmup" "$samples/cpp-run.$r"
  erl_round api
done
python3 bench/nif-cost/summarize.py "$samples" "$rounds"
