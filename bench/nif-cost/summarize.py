#!/usr/bin/env python3
"""Medians of run.sh's samples (ns per call, one file per side and round) and the NIF's cost."""
import os
import statistics
import sys

SIDES = [
    ("cpp-submit", "C++ Executor::submit + completion"),
    ("cpp-service-inprocess", "C++ Service::submit + completion, devices in-process"),
    ("cpp-service", "C++ Service::submit + completion (through the GPU worker process)"),
    ("erlang-nif", "Erlang kem_nif:nif_execute + receive"),
    ("cpp-run", "C++ Executor::run"),
    ("erlang-api", "Erlang kem:execute({source, _}, _)"),
]


def read(path):
    with open(path) as f:
        return [int(line) for line in f if line.strip()]


def main(folder, rounds):
    # The sides whose samples are in the folder: run.sh writes four, run-on-gpu.sh two.
    sides = [(side, label) for side, label in SIDES if os.path.exists(f"{folder}/{side}.1")]
    per_round = {side: [read(f"{folder}/{side}.{r}") for r in range(1, rounds + 1)] for side, _ in sides}
    medians = {}
    first = sides[0][0]
    print(f"\n4-byte double-integer calls, {rounds} alternating rounds of "
          f"{len(per_round[first][0])} calls per side (medians in µs)\n")
    print("| path | median, all rounds | best round | median per round |")
    print("|---|---|---|---|")
    for side, label in sides:
        everything = [s for samples in per_round[side] for s in samples]
        medians[side] = statistics.median(everything) / 1000
        rounds_text = " ".join(f"{statistics.median(s) / 1000:.1f}" for s in per_round[side])
        best = min(statistics.median(s) for s in per_round[side]) / 1000
        print(f"| {label} | {medians[side]:.1f} | {best:.1f} | {rounds_text} |")

    def paired(a, b):  # median over rounds of the per-round difference of medians
        return statistics.median(statistics.median(x) / 1000 - statistics.median(y) / 1000
                                 for x, y in zip(per_round[a], per_round[b]))
    have = set(per_round)
    print()
    if {"cpp-service", "cpp-service-inprocess"} <= have:
        print(f"GPU worker boundary, service minus in-process service: "
              f"{medians['cpp-service'] - medians['cpp-service-inprocess']:+.1f} µs "
              f"(median of per-round differences {paired('cpp-service', 'cpp-service-inprocess'):+.1f} µs)")
    for cpp in ("cpp-submit", "cpp-service"):
        if {"erlang-nif", cpp} <= have:
            print(f"NIF cost, nif_execute + receive minus {cpp}: {medians['erlang-nif'] - medians[cpp]:+.1f} µs "
                  f"(median of per-round differences {paired('erlang-nif', cpp):+.1f} µs)")
    if {"erlang-api", "cpp-run", "erlang-nif"} <= have:
        print(f"Public Erlang API, kem:execute minus C++ Executor::run: "
              f"{medians['erlang-api'] - medians['cpp-run']:+.1f} µs "
              f"(per-round {paired('erlang-api', 'cpp-run'):+.1f} µs)")
        print(f"kem:execute's own Erlang work (minus nif_execute + receive): "
              f"{medians['erlang-api'] - medians['erlang-nif']:+.1f} µs")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
