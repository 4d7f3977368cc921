#!/usr/bin/env python3
"""Fails when an #include in src/ reaches from a lower layer up to a higher one.

The layers, lowest first (docs/ARCHITECTURE.md): error (src/error.cpp), webgpu and process, then
wgsl and store, executor (with executor/session), pool, worker and sandbox, service, cli. A file may include its own layer and
the ones below; public headers count as the layer that implements them. Private headers of the
GPU session (src/executor/session/) also must not include the public kem/executor.h: what they
need of it is in kem/executor_options.h.

Usage: scripts/check-layers.py [repository root]
"""
import pathlib
import re
import sys

RANK = {"error": 0, "webgpu": 1, "process": 1, "wgsl": 2, "store": 2, "executor": 3, "pool": 4,
        "worker": 5, "sandbox": 5, "service": 6, "cli": 7}
# Public headers above the bottom layer, by the layer that implements them.
PUBLIC = {
    "kem/reflection.h": "wgsl", "kem/kernel_store.h": "store",
    "kem/executor_options.h": "executor", "kem/kernel_request.h": "executor", "kem/executor.h": "executor",
    "kem/executor_pool.h": "pool", "kem/service.h": "service", "kem/settings.h": "service",
    "kem/trust_policy.h": "service", "kem/worker_options.h": "worker", "kem/kernel_admission.h": "sandbox",
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer_of(path: pathlib.Path, src: pathlib.Path) -> str:
    parts = path.relative_to(src).parts
    return parts[0] if len(parts) > 1 else "error"


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
    src = root / "src"
    problems = []
    for path in sorted(src.rglob("*")):
        if path.suffix not in (".h", ".cpp"):
            continue
        layer = layer_of(path, src)
        if layer not in RANK:
            continue
        for included in INCLUDE.findall(path.read_text(encoding="utf-8", errors="replace")):
            target = PUBLIC.get(included, included.split("/")[0])
            if target in RANK and RANK[target] > RANK[layer]:
                problems.append(f"{path.relative_to(root)}: includes {included} ({target} is above {layer})")
            if included == "kem/executor.h" and "session" in path.relative_to(src).parts:
                problems.append(f"{path.relative_to(root)}: includes kem/executor.h (use kem/executor_options.h)")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
