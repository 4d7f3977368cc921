#!/usr/bin/env python3
"""Markdown report of issue 6's comparison from kem_bench's and torch_peer.py's JSON files.

    python3 bench/report.py bench.json [more kem_bench JSON...] [torch.json] [adapter.json]

Each file is recognised by its content: Google Benchmark output (kem_bench), torch_peer.py
output ("peer": "torch"), or `kem info` output (the adapter). Prints, per size, the peers side
by side (median per call over repetitions, spread, ratio to KEM warm, GB/s in + out against the
PCIe and device-memory ceilings), then the concurrency and compute-bound tables and every other
benchmark found. Python 3 standard library only.
"""
import json
import statistics
import sys

PCIE_EACH_WAY = 55e9       # bytes/s, PCIe Gen5 x16, one direction (pinned memory, measured)
DEVICE_MEMORY = 4.3e12     # bytes/s, H200 device copy ceiling (read + write)
TIME_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}

# (kem_bench family or torch variant, label); the first KEM warm row is the ratio's base.
TRANSFER_PEERS = [
    ("gb", "BM_PocDesign", "(a) proof-of-concept design: new device per call"),
    ("gb", "BM_WarmCall", "(b) KEM warm: Executor::run"),
    ("torch", "pageable", "(c) PyTorch, pageable NumPy"),
    ("torch", "pinned", "(c) PyTorch, pinned, buffers reused"),
    ("gb", "BM_RawDawn", "(d) raw Dawn loop, all reused (floor)"),
]
KERNEL_PEERS = [
    ("gb", "BM_RawDawnKernelOnly", "kernel only: Dawn dispatch + wait"),
    ("torch", "kernel_only", "kernel only: PyTorch mul + synchronize"),
]
COMPUTE_PEERS = [
    ("gb", "BM_ComputeWarm", "KEM warm: Executor::run (unmetered)"),
    ("gb", "BM_ComputeRawDawn", "raw Dawn loop, all reused"),
    ("torch", "pageable", "PyTorch, pageable NumPy"),
    ("torch", "kernel_only", "PyTorch kernel only (+ synchronize)"),
]
SHOWN_FAMILIES = {p[1] for p in TRANSFER_PEERS + KERNEL_PEERS + COMPUTE_PEERS if p[0] == "gb"} | {
    "BM_WarmConcurrent"}


class Figure:
    """Per-call seconds over repetitions (or a rate, for concurrency), or why there is none."""

    def __init__(self, values=None, median=None, cv=None, error=None, counters=None):
        self.values = values or []
        self.error = error
        self.counters = counters or {}
        if self.values:
            self.median = statistics.median(self.values)
            mean = statistics.mean(self.values)
            self.cv = statistics.stdev(self.values) / mean if len(self.values) > 1 and mean else 0.0
            self.low, self.high = min(self.values), max(self.values)
        else:
            self.median, self.cv, self.low, self.high = median, cv, None, None

    @property
    def ok(self):
        return self.error is None and self.median is not None


# ---------------------------------------------------------------- reading

def load(paths):
    gb_runs, torch, adapter, contexts = [], None, None, []
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        if isinstance(data, dict) and "benchmarks" in data:
            contexts.append(data.get("context", {}))
            gb_runs.extend(data["benchmarks"])
        elif isinstance(data, dict) and data.get("peer") == "torch":
            torch = data
        elif isinstance(data, dict) and "limits" in data and "backend" in data:
            adapter = data
        else:
            sys.exit(f"report.py: {path}: neither kem_bench, torch_peer.py nor kem info JSON")
    return gb_runs, torch, adapter, contexts


def run_key(run):
    """(family, numeric argument or None, threads) of a Google Benchmark run."""
    parts = run.get("run_name", run["name"]).split("/")
    arg = next((int(p) for p in parts[1:] if p.isdigit()), None)
    return parts[0], arg, int(run.get("threads", 1))


def gb_figures(runs):
    """{(family, arg, threads): Figure} from per-repetition runs, else from the aggregates."""
    reps, aggregates, errors, counters = {}, {}, {}, {}
    for run in runs:
        key = run_key(run)
        if run.get("error_occurred"):
            errors[key] = run.get("error_message", "error")
            continue
        seconds = run["real_time"] * TIME_UNITS[run.get("time_unit", "ns")]
        extra = {k: v for k, v in run.items() if isinstance(v, (int, float)) and k not in (
            "real_time", "cpu_time", "iterations", "repetitions", "repetition_index", "threads",
            "family_index", "per_family_instance_index")}
        if run.get("run_type") == "aggregate":
            aggregates.setdefault(key, {})[run.get("aggregate_name")] = (seconds, run)
        else:
            reps.setdefault(key, []).append(seconds)
            counters.setdefault(key, []).append(extra)
    figures = {}
    for key in set(reps) | set(aggregates) | set(errors):
        if key in reps:
            per_counter = {}
            for extra in counters[key]:
                for k, v in extra.items():
                    per_counter.setdefault(k, []).append(v)
            med = {k: statistics.median(v) for k, v in per_counter.items()}
            figures[key] = Figure(reps[key], counters=med)
        elif key in aggregates and "median" in aggregates[key]:
            seconds, run = aggregates[key]["median"]
            cv = aggregates[key].get("cv", (None, {}))[1].get("real_time")
            cv_fraction = cv if cv is not None else None
            extra = {k: v for k, v in run.items() if isinstance(v, (int, float))}
            figures[key] = Figure(median=seconds, cv=cv_fraction, counters=extra)
        else:
            figures[key] = Figure(error=errors[key])
    return figures


def torch_figure(entry):
    if entry is None:
        return None
    if "error" in entry:
        return Figure(error=entry["error"])
    if "times_s" in entry:
        return Figure(entry["times_s"])
    if "calls_per_second" in entry:
        return Figure(entry["calls_per_second"])
    return Figure(median=entry.get("median_s"), cv=entry.get("cv"))


def find_torch(torch, section, **match):
    if not torch:
        return None
    for entry in torch.get(section, []):
        if all(entry.get(k) == v for k, v in match.items()):
            return entry
    return None


# ---------------------------------------------------------------- formatting

def fmt_time(s):
    if s is None:
        return "—"
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def fmt_size(n):
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} B"


def fmt_rate(bytes_per_s):
    if bytes_per_s >= 1e12:
        return f"{bytes_per_s / 1e12:.2f} TB/s"
    if bytes_per_s >= 1e9:
        return f"{bytes_per_s / 1e9:.2f} GB/s"
    return f"{bytes_per_s / 1e6:.1f} MB/s"


def fmt_count(x):
    if x >= 1e6:
        return f"{x / 1e6:.2f} M"
    if x >= 1e3:
        return f"{x / 1e3:.1f} k"
    return f"{x:.0f}"


def fmt_cv(f):
    return "—" if f.cv is None else f"{f.cv * 100:.1f} %"


def fmt_range(f, fmt=fmt_time):
    return "—" if f.low is None else f"{fmt(f.low)} – {fmt(f.high)}"


def ratio(f, base):
    if not (f and f.ok and base and base.ok and base.median):
        return "—"
    return f"{f.median / base.median:.2f}×"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def error_row(label, f, width):
    why = f.error if f.error.startswith("skipped") else f"failed: {f.error}"
    return [label, why] + [""] * (width - 2)


# ---------------------------------------------------------------- sections

def transfer_sections(gb, torch, sizes):
    out = []
    for size in sizes:
        base = gb.get(("BM_WarmCall", size, 1))
        moved = 2 * size
        floor = moved / PCIE_EACH_WAY
        header = ["peer", "median per call", "CV", "min – max", "× KEM warm", "in + out",
                  "% of PCIe"]
        rows = []
        for source, name, label in TRANSFER_PEERS:
            f = gb.get((name, size, 1)) if source == "gb" else torch_figure(
                find_torch(torch, "transfer", variant=name, bytes=size))
            if f is None:
                continue
            if not f.ok:
                rows.append(error_row(label, f, len(header)))
                continue
            rate = moved / f.median
            rows.append([label, fmt_time(f.median), fmt_cv(f), fmt_range(f), ratio(f, base),
                         fmt_rate(rate), f"{100 * rate / PCIE_EACH_WAY:.1f} %" if size >= 1 << 20 else "—"])
        kernel_rows = []
        for source, name, label in KERNEL_PEERS:
            f = gb.get((name, size, 1)) if source == "gb" else torch_figure(
                find_torch(torch, "transfer", variant=name, bytes=size))
            if f is None:
                continue
            if not f.ok:
                kernel_rows.append(error_row(label, f, len(header)))
                continue
            rate = moved / f.median
            kernel_rows.append([label, fmt_time(f.median), fmt_cv(f), fmt_range(f), "",
                                fmt_rate(rate),
                                f"{100 * rate / DEVICE_MEMORY:.1f} % of memory" if size >= 1 << 20 else "—"])
        if not rows and not kernel_rows:
            continue
        out.append(f"### {fmt_size(size)} in, {fmt_size(size)} out (double-integer)\n")
        if size >= 1 << 20:
            out.append(f"PCIe floor: {fmt_size(moved)} at {PCIE_EACH_WAY / 1e9:.0f} GB/s = {fmt_time(floor)}; "
                       f"device memory floor for the kernel: {fmt_time(moved / DEVICE_MEMORY)}.\n")
        out.append(table(header, rows + kernel_rows) + "\n")
    return out


def concurrency_section(gb, torch):
    threads = sorted({k[2] for k in gb if k[0] == "BM_WarmConcurrent"} |
                     {e.get("threads") for e in (torch or {}).get("concurrency", [])})
    if not threads:
        return []
    header = ["callers", "KEM warm calls/s (median)", "CV", "µs per call per caller",
              "PyTorch calls/s (median)", "CV", "KEM / PyTorch"]
    rows = []
    for t in threads:
        k = gb.get(("BM_WarmConcurrent", None, t))
        kem_rate = k.counters.get("calls_per_second") if k and k.ok else None
        kem_cv = "—"
        if k and k.ok and k.values and len(k.values) > 1:
            kem_cv = fmt_cv(k)  # the rate's CV equals the per-call time's to first order
        tf = torch_figure(find_torch(torch, "concurrency", threads=t))
        torch_rate = tf.median if tf and tf.ok else None
        rows.append([
            t,
            fmt_count(kem_rate) if kem_rate else (k.error if k and k.error else "—"),
            kem_cv,
            f"{t / kem_rate * 1e6:.1f}" if kem_rate else "—",
            fmt_count(torch_rate) if torch_rate else (tf.error if tf and tf.error else "—"),
            fmt_cv(tf) if torch_rate else "—",
            f"{kem_rate / torch_rate:.2f}" if kem_rate and torch_rate else "—",
        ])
    return ["### Concurrent 4-byte calls\n",
            "Threads calling at once, each waiting for its own result (KEM: `Executor::run`; "
            "PyTorch: pageable round trip, one CUDA stream per thread).\n",
            table(header, rows) + "\n"]


def compute_section(gb, torch):
    header = ["peer", "median per call", "CV", "min – max", "× KEM warm", "GFLOP/s"]
    base = gb.get(("BM_ComputeWarm", None, 1))
    rows, notes, iterations = [], [], set()
    for source, name, label in COMPUTE_PEERS:
        if source == "gb":
            f = gb.get((name, None, 1))
            flops = None
            if f and f.ok:
                rate = f.counters.get("flops")
                flops = rate * f.median if rate else None
                if "fma_iterations" in f.counters:
                    iterations.add(int(f.counters["fma_iterations"]))
        else:
            entry = find_torch(torch, "compute", variant=name)
            f = torch_figure(entry)
            flops = entry.get("flops_per_call") if entry else None
            if entry and "fma_iterations" in entry:
                iterations.add(int(entry["fma_iterations"]))
            if entry and entry.get("kernel") and entry["kernel"] != "jiterator" and entry["kernel"] not in notes:
                notes.append(entry["kernel"])
        if f is None:
            continue
        if not f.ok:
            rows.append(error_row(label, f, len(header)))
            continue
        rows.append([label, fmt_time(f.median), fmt_cv(f), fmt_range(f), ratio(f, base),
                     f"{flops / f.median / 1e9:.0f}" if flops else "—"])
    if not rows:
        return []
    out = ["### Compute-bound kernel\n",
           f"Four f32 FMA chains, {' / '.join(map(str, sorted(iterations))) or '?'} rounds per invocation, "
           "1M invocations, 4 MiB in and out, end to end from host memory unless noted.\n"]
    if len(iterations) > 1:
        out.append("**Warning: the peers ran different iteration counts; the times are not comparable.**\n")
    for n in notes:
        out.append(f"PyTorch kernel: {n}.\n")
    out.append(table(header, rows) + "\n")
    return out


def other_section(gb):
    keys = sorted(k for k in gb if k[0] not in SHOWN_FAMILIES)
    if not keys:
        return []
    header = ["benchmark", "median", "CV", "min – max", "counters (median)"]
    rows = []
    for family, arg, threads in keys:
        f = gb[(family, arg, threads)]
        name = family + (f"/{arg}" if arg is not None else "") + (f" threads:{threads}" if threads > 1 else "")
        if not f.ok:
            rows.append(error_row(name, f, len(header)))
            continue
        counters = ", ".join(f"{k}={fmt_count(v)}" for k, v in sorted(f.counters.items())
                             if k not in ("real_time", "cpu_time"))
        rows.append([name, fmt_time(f.median), fmt_cv(f), fmt_range(f), counters])
    return ["### Other benchmarks\n", table(header, rows) + "\n"]


def header_section(contexts, torch, adapter, gb):
    lines = ["## Issue 6: KEM against the proof-of-concept design, PyTorch and raw Dawn\n"]
    for c in contexts[:1]:
        lines.append(f"- kem_bench: {c.get('date', '?')}, host {c.get('host_name', '?')}, "
                     f"{c.get('num_cpus', '?')} CPUs")
    if adapter:
        lines.append(f"- adapter: {adapter.get('name') or adapter.get('device')} ({adapter.get('vendor')}, "
                     f"{adapter.get('backend')}, driver {adapter.get('driver')})")
    if torch:
        lines.append(f"- PyTorch {torch.get('torch')} (CUDA {torch.get('cuda')}, NumPy {torch.get('numpy')}) "
                     f"on {torch.get('device')}, {torch.get('date')}")
    reps = sorted({len(f.values) for f in gb.values() if f.values})
    lines.append(f"- medians over {'/'.join(map(str, reps)) or '?'} repetitions; CV = standard deviation / "
                 "mean over the repetitions; × KEM warm = median / KEM warm's median (below 1: faster)")
    lines.append(f"- in + out = 2 × size / median; % of PCIe against {PCIE_EACH_WAY / 1e9:.0f} GB/s "
                 f"(Gen5 x16, one direction: an upload then a download); kernel-only rows against "
                 f"{DEVICE_MEMORY / 1e12:.1f} TB/s device memory\n")
    return lines


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) >= 2 else 2
    gb_runs, torch, adapter, contexts = load(argv[1:])
    gb = gb_figures(gb_runs)
    sizes = sorted({k[1] for k in gb if k[0] in ("BM_PocDesign", "BM_WarmCall", "BM_RawDawn") and k[1]} |
                   {e["bytes"] for e in (torch or {}).get("transfer", []) if "bytes" in e})
    out = header_section(contexts, torch, adapter, gb)
    out += transfer_sections(gb, torch, sizes)
    out += concurrency_section(gb, torch)
    out += compute_section(gb, torch)
    out += other_section(gb)
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
