#!/usr/bin/env bash
# Issue 13's before and after, side by side in one run: the same 4-byte calls through two
# builds of kem, in alternating rounds (one OS process per round and side):
#   Erlang kem:execute({source, _}) and kem:execute({id, Pinned})   (api_cost.erl)
#   C++ Executor::run                                                (kem_nif_cost run)
# and, in the new build only, C++ Service::submit (kem_nif_cost service).
# Usage: bench/nif-cost/before-after.sh BASE_TREE   (a checkout of the "before" commit whose
#   build-nif/ has kem_nif and kem_nif_cost built with -DKEM_BUILD_NIF=ON -DKEM_BUILD_BENCH=ON)
# Environment: KEM_BUILD_DIR (build-bench), ROUNDS (8), CALLS (2000), WARMUP (500).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
base=$(cd "$1" && pwd)
cd "$root"
build=${KEM_BUILD_DIR:-build-bench}
rounds=${ROUNDS:-8}
calls=${CALLS:-2000}
warmup=${WARMUP:-500}
if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKEM_BUILD_BENCH=ON -DKEM_BUILD_NIF=ON >/dev/null
fi
cmake --build "$build" --target kem_nif kem_nif_cost --parallel 2 | { grep -vE '^\[[0-9]+/[0-9]+\] ' || true; }

work=$build/before-after
rm -rf "$work" && mkdir -p "$work/samples"
app() {  # SIDE TREE NIF
  mkdir -p "$work/$1/kem/ebin" "$work/$1/kem/priv" "$work/$1/pins"
  erlc -o "$work/$1/kem/ebin" "$2"/erlang/kem/src/*.erl bench/nif-cost/api_cost.erl
  cp "$2/erlang/kem/src/kem.app.src" "$work/$1/kem/ebin/kem.app"
  cp "$3" "$work/$1/kem/priv/kem_nif.so"
}
app before "$base" "$base/build-nif/erlang/kem/c_src/kem_nif.so"
app after "$root" "$build/erlang/kem/c_src/kem_nif.so"
kernel=$root/kernels/double-integer.wgsl
erl_round() {  # SIDE MODE
  erl -noshell -pa "$work/$1/kem/ebin" -eval \
    "api_cost:main([$2, \"$kernel\", \"$work/$1/pins\", $calls, $warmup, \"$work/samples/$1-$2.$r\"]), halt()." 2>&1
}
for r in $(seq 1 "$rounds"); do
  echo "== round $r of $rounds"
  for side in before after; do erl_round $side source; erl_round $side id; done
  "$base/build-nif/bench/kem_nif_cost" run "$calls" "$warmup" "$work/samples/before-run.$r"
  "$build/bench/kem_nif_cost" run "$calls" "$warmup" "$work/samples/after-run.$r"
  "$build/bench/kem_nif_cost" submit "$calls" "$warmup" "$work/samples/after-submit.$r"
  "$build/bench/kem_nif_cost" service "$calls" "$warmup" "$work/samples/after-service.$r"
done
python3 - "$work/samples" "$rounds" <<'PY'
import statistics, sys
folder, rounds = sys.argv[1], int(sys.argv[2])
sides = [("before-source", "kem:execute({source, _}), before"), ("after-source", "kem:execute({source, _}), after"),
         ("before-id", "kem:execute({id, Pinned}), before"), ("after-id", "kem:execute({id, Pinned}), after"),
         ("before-run", "C++ Executor::run, before"), ("after-run", "C++ Executor::run, after"),
         ("after-submit", "C++ Executor::submit + wait, after"), ("after-service", "C++ Service::submit + wait, after")]
per = {s: [[int(l) for l in open(f"{folder}/{s}.{r}") if l.strip()] for r in range(1, rounds + 1)] for s, _ in sides}
print(f"\n4-byte double-integer calls, {rounds} alternating rounds of {len(per['after-run'][0])} calls (µs)\n")
print("| path | median, all rounds | median of round medians | best round |")
print("|---|---|---|---|")
for s, label in sides:
    meds = [statistics.median(x) / 1000 for x in per[s]]
    print(f"| {label} | {statistics.median([v for x in per[s] for v in x]) / 1000:.1f} | {statistics.median(meds):.1f} | {min(meds):.1f} |")
def paired(a, b):
    return statistics.median(statistics.median(x) / 1000 - statistics.median(y) / 1000 for x, y in zip(per[a], per[b]))
print()
for a, b in [("after-source", "before-source"), ("after-id", "before-id"), ("after-run", "before-run"),
             ("after-service", "after-submit")]:
    print(f"{a} minus {b}: median of per-round differences {paired(a, b):+.1f} µs")
PY
