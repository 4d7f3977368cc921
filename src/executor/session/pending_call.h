// A call waiting for the device: the request, its deadline and its completion.
#pragma once

#include "kem/executor_options.h"
#include "kem/kernel_request.h"
#include "webgpu/device.h"

namespace kem::executor {

struct PendingCall {
  KernelRequest request;           // its views stay valid until `done` has run (submit's contract)
  gpu::Clock::time_point deadline;
  Completion done;                 // called exactly once, through answer()

  // Runs the completion unless it already ran (so an error path can answer "everything not yet
  // answered" without answering anything twice).
  void answer(Result<OutputView> result) {
    if (!done) return;
    Completion once = std::move(done);
    done = nullptr;
    once(std::move(result));
  }
  bool answered() const { return !done; }
};

}  // namespace kem::executor
