// Where a node's GPUs are driven: in a separate, supervised process (the default) or in the
// process of the service itself. See docs/ARCHITECTURE.md, "The GPU worker process".
//
// In a worker process, a kernel that crashes the driver (a signal in its shader compiler), runs
// it out of memory or hangs it takes down that process only: the calls in flight on it get
// device_lost, and a new worker serves the next calls. A call whose work outlives its deadline
// by `grace` gets the worker killed, and a worker whose device had to be abandoned (its GPU
// still running work nobody waits for) is replaced, so no call is served by a busy device.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace kem {

struct WorkerOptions {
  bool isolate = true;  // false: the devices live in the service's own process
  // The worker program; empty: kem-gpu-worker next to the binary (or the NIF's priv/), or
  // $KEM_GPU_WORKER.
  std::string program;
  // How long past a call's deadline the service waits for its answer before it kills the
  // worker (the executor answers at the deadline itself; this is for a GPU, driver or compiler
  // that does not let go).
  std::chrono::milliseconds grace{1000};
  // How long a new worker may take to create its devices.
  std::chrono::milliseconds start_timeout{60000};
  // Shared memory kept for moving large inputs and outputs, reused across calls.
  uint64_t transfer_cache_bytes = 1ull << 30;
};

// What the service knows of its worker processes (all zero for LocalDevices).
struct WorkerStats {
  bool isolated = false;
  long pid = 0;                // the current worker; 0 while none runs
  uint64_t starts = 0;         // workers started, the first included
  uint64_t crashes = 0;        // ended on their own (a signal, an exit)
  uint64_t watchdog_kills = 0; // killed because a request outlived its deadline and grace
  uint64_t replacements = 0;   // replaced because a device had to be abandoned
  uint64_t calls_lost = 0;     // requests answered device_lost or timeout because a worker ended
  double last_recovery_ms = 0; // from a worker's end to its successor's devices being ready
  std::string last_end;        // how the last worker ended, for people
};

}  // namespace kem
