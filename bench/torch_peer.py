#!/usr/bin/env python3
"""The PyTorch peer of kem_bench (issue 6, peer (c)): the same work end to end from host memory.

For each size (4 B to 1 GiB): a host buffer -> GPU -> x 2 (int32, the same bytes as KEM's u32
double-integer kernel) -> host, in three variants:
  pageable     from a pageable NumPy array (a torch CPU tensor without NumPy), output into a new
               pageable tensor: what a user writes (`torch.from_numpy(a).cuda() * 2).cpu()`);
  pinned       pinned host buffers and device buffers allocated once, asynchronous copies, one
               stream synchronisation per call: PyTorch at its best (the PCIe ceiling);
  kernel_only  device-resident: only the multiply and a synchronisation (the device memory
               ceiling).
Also 1, 8 and 64 threads making 4-byte pageable calls (each thread on its own stream; the GIL
serialises the Python side, which is PyTorch's real cost for small calls), and the compute-bound
kernel of bench/bench_common.cpp (four f32 FMA chains, --fma-iterations rounds, 1M invocations)
compiled by jiterator, end to end (pageable) and kernel only.

Timing follows Google Benchmark: each repetition runs a calibrated (or, for big sizes, a fixed)
number of calls and records the mean time per call; the JSON has every repetition, the median
and the coefficient of variation. Needs only torch (NumPy if torch has it). bench/report.py reads
the JSON next to kem_bench's.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import threading
import time

import torch

try:
    import numpy as np
except ImportError:  # torch works without NumPy; the pageable buffer is then a CPU tensor
    np = None

GIB = 1 << 30
MIB = 1 << 20
DEFAULT_SIZES = [4, 4 << 10, 1 << 20, 64 << 20, 256 << 20, 1 << 30]
WORD = 0x03030303  # every input byte 3, so every output byte is 6 (as in kem_bench)
DOUBLED = 0x06060606


def fixed_iterations(size):
    """Iterations and repetitions per size, as bench_common.cpp's transfer_sizes(false)."""
    if size >= GIB:
        return 1, 5
    if size >= 256 * MIB:
        return 3, 5
    return 0, 0


def spread(values):
    out = {"median": statistics.median(values), "min": min(values), "max": max(values)}
    mean = statistics.mean(values)
    out["mean"] = mean
    out["cv"] = statistics.stdev(values) / mean if len(values) > 1 and mean else 0.0
    return out


def time_calls(call, n, sync=None):
    t0 = time.perf_counter()
    for _ in range(n):
        call()
    if sync:
        sync()
    return time.perf_counter() - t0


def one_repetition(call, iterations, min_time, sync=None):
    """Mean seconds per call over `iterations` calls, or over a count calibrated so that the
    repetition lasts at least min_time (Google Benchmark's rule: grow by up to 10x)."""
    if iterations:
        return time_calls(call, iterations, sync) / iterations, iterations
    n = 1
    while True:
        t = time_calls(call, n, sync)
        if t >= min_time or n >= 10**9:
            return t / n, n
        grow = 1.4 * min_time / max(t, 1e-9) if t / min_time > 0.1 else 10.0
        n = int(min(max(n * grow, n + 1), n * 10))


def measure(call, iterations, repetitions, min_time, sync=None):
    times, counts = [], []
    for _ in range(repetitions):
        t, n = one_repetition(call, iterations, min_time, sync)
        times.append(t)
        counts.append(n)
    stats = spread(times)
    return {"times_s": times, "iterations": counts, "median_s": stats["median"], "min_s": stats["min"],
            "max_s": stats["max"], "mean_s": stats["mean"], "cv": stats["cv"]}


class Transfer:
    """The double-integer round trip for one size, in every variant."""

    def __init__(self, size, device):
        self.size = size
        self.words = max(1, size // 4)
        self.device = device

    def pageable_input(self):
        if np is not None:
            return np.full(self.words, WORD, dtype=np.int32)
        return torch.full((self.words,), WORD, dtype=torch.int32)

    def pageable(self):
        host = self.pageable_input()
        device = self.device
        if np is not None:
            def call():
                d = torch.from_numpy(host).to(device)
                d.mul_(2)
                return d.cpu().numpy()
        else:
            def call():
                d = host.to(device)
                d.mul_(2)
                return d.cpu()
        return call

    def pinned(self):
        h_in = torch.empty(self.words, dtype=torch.int32, pin_memory=True)
        h_in.fill_(WORD)
        h_out = torch.empty(self.words, dtype=torch.int32, pin_memory=True)
        d_in = torch.empty(self.words, dtype=torch.int32, device=self.device)
        d_out = torch.empty_like(d_in)
        stream = torch.cuda.current_stream()

        def call():
            d_in.copy_(h_in, non_blocking=True)
            torch.mul(d_in, 2, out=d_out)
            h_out.copy_(d_out, non_blocking=True)
            stream.synchronize()
            return h_out
        return call

    def kernel_only(self):
        d_in = torch.full((self.words,), WORD, dtype=torch.int32, device=self.device)
        d_out = torch.empty_like(d_in)

        def call():
            torch.mul(d_in, 2, out=d_out)
            torch.cuda.synchronize()
            return d_out
        return call


def all_doubled(result):
    if np is not None and isinstance(result, np.ndarray):
        return bool((result == DOUBLED).all())
    return bool((result == DOUBLED).all().item())


def bench_transfers(args, device, results):
    for size in args.sizes:
        iterations, repetitions = fixed_iterations(size)
        for variant in ("pageable", "pinned", "kernel_only"):
            entry = {"variant": variant, "bytes": size}
            try:
                t = Transfer(size, device)
                call = getattr(t, variant)()
                if not all_doubled(call()):
                    raise RuntimeError("wrong output")
                # Kernel-only calls are fast at every size: calibrated like kem_bench does.
                fixed = 0 if variant == "kernel_only" else iterations
                entry.update(measure(call, fixed, repetitions or args.repetitions, args.min_time))
                del call, t
            except Exception as e:  # out of memory, a missing feature: recorded, not fatal
                entry["error"] = f"{type(e).__name__}: {e}"
            torch.cuda.empty_cache()
            results.append(entry)
            log(entry)


def bench_concurrency(args, device, results):
    for threads in args.threads:
        entry = {"threads": threads, "bytes": 4, "variant": "pageable"}
        try:
            rates = []
            for _ in range(args.repetitions):
                rates.append(concurrent_rate(threads, device, args.min_time))
            entry["calls_per_second"] = rates
            entry.update({k: v for k, v in spread(rates).items()})
        except Exception as e:
            entry["error"] = f"{type(e).__name__}: {e}"
        results.append(entry)
        log(entry)


def concurrent_rate(threads, device, duration):
    """Calls per second of `threads` threads making 4-byte pageable calls for `duration`."""
    barrier = threading.Barrier(threads + 1)
    counts = [0] * threads
    ends = [0.0] * threads
    errors = []
    start = [0.0]

    def worker(i):
        try:
            stream = torch.cuda.Stream(device=device)
            call = Transfer(4, device).pageable()
            with torch.cuda.stream(stream):
                for _ in range(3):
                    call()
                barrier.wait()
                stop = start[0] + duration
                n = 0
                while True:
                    call()
                    n += 1
                    now = time.perf_counter()
                    if now >= stop:
                        break
                counts[i] = n
                ends[i] = now
        except Exception as e:
            errors.append(e)
            barrier.abort()

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    start[0] = time.perf_counter()  # before any worker leaves the barrier: a conservative rate
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        pass  # a worker failed; its error is raised below
    for t in pool:
        t.join()
    if errors:
        raise errors[0]
    return sum(counts) / (max(ends) - start[0])


def fma_source(iterations):
    # The loop of bench_common.cpp's fma_kernel(), one element per CUDA thread.
    return (
        "template <typename T> T kem_fma(T x) {\n"
        "  T a = x; T b = x + T(1); T c = x + T(2); T d = x + T(3);\n"
        f"  for (int k = 0; k < {iterations}; ++k) {{\n"
        "    a = fmaf(a, 0.999999f, 0.000001f);\n"
        "    b = fmaf(b, 0.999999f, 0.000001f);\n"
        "    c = fmaf(c, 0.999999f, 0.000001f);\n"
        "    d = fmaf(d, 0.999999f, 0.000001f);\n"
        "  }\n"
        "  return a + b + c + d;\n"
        "}\n")


def fma_function(iterations):
    """The FMA loop as one fused CUDA kernel (jiterator); else unfused torch ops, flagged."""
    try:
        from torch.cuda import jiterator
        fn = jiterator._create_jit_fn(fma_source(iterations))
        return fn, "jiterator"
    except Exception as e:
        note = f"torch ops, one launch per step (jiterator unavailable: {type(e).__name__}: {e})"

    def unfused(x):
        chains = torch.stack([x, x + 1, x + 2, x + 3])
        for _ in range(iterations):
            chains.mul_(0.999999).add_(0.000001)
        return chains.sum(0)
    return unfused, note


def bench_compute(args, device, results):
    n = args.fma_invocations
    flops = float(n) * args.fma_iterations * 8
    try:
        fn, kernel = fma_function(args.fma_iterations)
        if np is not None:
            host = (np.arange(n, dtype=np.float32) / np.float32(n))

            def pageable():
                return fn(torch.from_numpy(host).to(device)).cpu().numpy()
        else:
            host = torch.arange(n, dtype=torch.float32) / n

            def pageable():
                return fn(host.to(device)).cpu()
        d_in = torch.arange(n, dtype=torch.float32, device=device) / n

        def kernel_only():
            out = fn(d_in)
            torch.cuda.synchronize()
            return out
        first = float(pageable()[0])
        if not (0.0 < first < 7.0):
            raise RuntimeError(f"implausible output {first}")
        variants = [("pageable", pageable), ("kernel_only", kernel_only)]
    except Exception as e:
        entry = {"variant": "pageable", "error": f"{type(e).__name__}: {e}"}
        results.append(entry)
        log(entry)
        return
    for variant, call in variants:
        entry = {"variant": variant, "kernel": kernel, "fma_iterations": args.fma_iterations,
                 "invocations": n, "flops_per_call": flops}
        try:
            entry.update(measure(call, 0, args.repetitions, args.min_time))
            entry["flops_per_second_median"] = flops / entry["median_s"]
        except Exception as e:
            entry["error"] = f"{type(e).__name__}: {e}"
        results.append(entry)
        log(entry)


SAVE = None  # writes the report so far: a run cut short by a time limit keeps what it measured


def log(entry):
    shown = {k: v for k, v in entry.items() if k not in ("times_s", "iterations", "calls_per_second")}
    print(json.dumps(shown), file=sys.stderr, flush=True)
    if SAVE:
        SAVE()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", help="JSON file (default: standard output)")
    p.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    p.add_argument("--repetitions", type=int, default=5)
    p.add_argument("--min-time", type=float, default=0.5, help="seconds per calibrated repetition")
    p.add_argument("--threads", default="1,8,64")
    p.add_argument("--fma-iterations", type=int, default=16384)
    p.add_argument("--fma-invocations", type=int, default=1 << 20)
    p.add_argument("--only", default="transfer,concurrency,compute")
    args = p.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",") if s]
    args.threads = [int(s) for s in args.threads.split(",") if s]
    only = set(args.only.split(","))

    if not torch.cuda.is_available():
        sys.exit("torch_peer: CUDA is not available")
    device = torch.device("cuda", 0)
    torch.cuda.init()
    torch.zeros(1, device=device)  # context creation, outside every timing

    report = {
        "peer": "torch",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "numpy": np.__version__ if np is not None else None,
        "device": torch.cuda.get_device_name(device),
        "repetitions": args.repetitions,
        "min_time_s": args.min_time,
        "transfer": [],
        "concurrency": [],
        "compute": [],
    }
    def save():
        if args.out:
            with open(args.out + ".tmp", "w") as f:
                f.write(json.dumps(report, indent=1) + "\n")
            os.replace(args.out + ".tmp", args.out)
    global SAVE
    SAVE = save
    if "transfer" in only:
        bench_transfers(args, device, report["transfer"])
    if "concurrency" in only:
        bench_concurrency(args, device, report["concurrency"])
    if "compute" in only:
        bench_compute(args, device, report["compute"])
    if args.out:
        save()
    else:
        print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
