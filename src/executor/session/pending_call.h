// A call waiting for the device: the request, its deadline and its completion.
#pragma once

#include <string>

#include "kem/executor_options.h"
#include "kem/kernel_request.h"
#include "webgpu/device.h"

namespace kem::executor {

struct PendingCall {
  KernelRequest request;           // its views stay valid until `done` has run (submit's contract)
  gpu::Clock::time_point deadline;
  Completion done;                 // called exactly once, through answer()
  CallTimeout timeout{};           // what the deadline came from, for the timeout's message
  uint64_t kernel_key = 0;         // what its service time is measured under (admission.h)
  std::chrono::nanoseconds estimate{0};  // its expected GPU time when admitted, in the backlog until answered

  // The timeout error: `what` happened, and the deadline it passed (and whether max_timeout
  // cut the caller's own timeout short, so a caller that asked for more learns why).
  Error deadline_error(const std::string& what) const {
    std::string message = what + " (" + std::to_string(timeout.timeout.count()) + " ms";
    if (timeout.capped) message += ": the node's max_timeout, less than the call asked for";
    return make_error(ErrorCode::timeout, message + ")");
  }

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
