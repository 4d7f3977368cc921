// A call waiting for the GPU thread: the request, its deadline and its completion.
#pragma once

#include "kem/executor.h"
#include "webgpu/device.h"

namespace kem::executor {

struct PendingCall {
  KernelRequest request;           // its views stay valid until `done` has run (submit's contract)
  gpu::Clock::time_point deadline;
  Completion done;                 // called exactly once
};

}  // namespace kem::executor
