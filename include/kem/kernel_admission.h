// Admission of new kernels: the first compile of a kernel (KEM's WGSL front end, metering, Tint
// and the driver's pipeline creation) runs in a short-lived child process, kem-kernel-sandbox,
// with limits on its memory (RLIMIT_AS), CPU time (RLIMIT_CPU) and wall time (the parent kills
// it). A driver's compiler can crash (lavapipe divides INT_MIN by -1 on one 5-line kernel: SIGFPE)
// or grow without bound (a 1.2 KB call tree took 20+ GB); in the child that costs the child, never
// the process that serves calls. The verdict is remembered per kernel, so a refused kernel is
// refused at once afterwards and an admitted one goes straight to the devices.
//
// Safe to use from any number of threads. admit() blocks for a sandbox run when the verdict is
// not known (a service calls it on a thread that may wait); known() never blocks.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "kem/executor_options.h"
#include "kem/kernel_request.h"
#include "kem/result.h"

namespace kem {

struct KernelAdmissionOptions {
  // Off: every kernel is admitted without a sandbox run (its first compile then happens on the
  // device that serves it, as before).
  bool enabled = true;
  // Address space the compile may take: the sandbox's RLIMIT_AS is what it had once Dawn and the
  // driver were up (about 800 MiB on lavapipe, which reserves far more than it touches; other
  // drivers differ) plus this. Honest compiles measured on lavapipe add 0 to 400 MiB of VmPeak
  // (a 200 KB kernel, a 2^15-call inlined tree), so this bounds runaway compiles, not honest ones
  // (docs/kernel-contract.md); it also bounds the resident memory a compile can take from a node.
  uint64_t address_space_bytes = 4ull << 30;
  // RLIMIT_CPU of the sandbox process, its start (Dawn, the driver: about 50 ms) included. The
  // main bound on a slow compile: CPU time does not depend on how busy the machine is.
  uint64_t cpu_seconds = 10;
  // Wall time of the compile, from when the request is handed over until the verdict: catches
  // a compile that waits without using CPU. Longer than the CPU limit, so that a busy machine
  // does not refuse an honest kernel.
  std::chrono::milliseconds timeout{20000};
  // How long a refusal by the wall-time limit is remembered. Unlike a crash or the memory or CPU
  // limit, wall time depends on how busy the machine was: an honest kernel refused under a burst
  // of load gets another sandbox run once this has passed (a hostile one then costs one sandbox
  // run per this period). Other verdicts are remembered until the cache drops them.
  std::chrono::milliseconds wall_refusal_memory{600000};
  // Verdicts remembered (admitted and refused kernels alike; least recently used out).
  size_t verdict_capacity = 4096;
  // Keep one sandbox process started ahead, its Dawn device up, waiting for the next new
  // kernel: a new kernel then waits for its compile only, not for Dawn's and the driver's start
  // (most of a sandbox run). Costs one idle process (its memory; on a GPU, a device context).
  bool spare = true;

  // Not operator settings: what the sandbox compiles for. A service fills them from its devices
  // (the first adapter selector; metering, which changes what is compiled).
  std::string adapter;
  ExecutorOptions executor;
  // How long a sandbox process may take to start (Dawn's instance, adapter and device) before
  // the admission fails with `unavailable`: a slow start is the machine's fault, not the kernel's.
  std::chrono::milliseconds start_timeout{30000};
};

class KernelAdmission {
 public:
  // Finds the helper program (kem-kernel-sandbox, or $KEM_KERNEL_SANDBOX) when enabled: a node
  // without it fails here, at start, rather than on every new kernel.
  static Result<std::unique_ptr<KernelAdmission>> create(KernelAdmissionOptions options);
  ~KernelAdmission();
  KernelAdmission(const KernelAdmission&) = delete;
  KernelAdmission& operator=(const KernelAdmission&) = delete;

  // OK when the kernel of `request` (its source, entry, metering and overrides) may reach the
  // devices. Otherwise the refusal: compile_error for a kernel whose sandboxed compile crashed,
  // passed a limit or took too long ("the kernel was refused: ..."), and the compile's own error
  // ("LINE:COL: ...") for an ordinary compile error; both remembered. A failure that is not the
  // kernel's (the sandbox could not start) is internal or unavailable and not remembered.
  // Concurrent first calls of one kernel share one sandbox run.
  Status admit(const KernelRequest& request);

  // The remembered verdict for `request`'s kernel, without waiting; nullopt when unknown.
  std::optional<Status> known(const KernelRequest& request);

  struct Stats {
    uint64_t sandbox_runs = 0;  // child processes that compiled (or tried to) a kernel
    uint64_t admitted = 0;      // verdicts reached by a sandbox run
    uint64_t refused = 0;
    uint64_t failures = 0;      // sandbox runs that reached no verdict (not remembered)
    uint64_t cache_hits = 0;    // answers from remembered verdicts
    uint64_t shared_runs = 0;   // admissions that waited for another caller's run of the same kernel
    // Of the last sandbox run that reached a verdict: its peak address space (VmPeak) and
    // resident memory (VmHWM) in bytes, its CPU and wall time in milliseconds.
    uint64_t last_vm_peak = 0, last_vm_hwm = 0, last_cpu_ms = 0, last_wall_ms = 0;
  };
  Stats stats() const;

  const KernelAdmissionOptions& options() const;

 private:
  struct Impl;
  explicit KernelAdmission(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kem
