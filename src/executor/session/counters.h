// Executor-wide counters, updated by the thread driving the device before a call's completion
// runs (so a caller that has its result also sees it counted) and read by any thread; and the
// device's load (device_load.h), which outlives sessions as the counters do.
#pragma once

#include <atomic>
#include <cstdint>

#include "executor/session/device_load.h"

namespace kem::executor {

struct Counters {
  std::atomic<uint64_t> calls{0}, errors{0}, pipeline_hits{0}, pipeline_misses{0}, device_losses{0};
  std::atomic<uint64_t> submissions{0};  // batches sent to the GPU (one or more calls each)
  std::atomic<uint64_t> refused{0};      // calls refused by admission control (admission.h)
  DeviceLoad load;
};

}  // namespace kem::executor
