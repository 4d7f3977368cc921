// Admission control: a call that the device's measured service times say cannot finish by its
// deadline is refused at once, rather than queued, or batched with neighbours, only to time
// out with them (64 calls of a 26 s kernel once went to the GPU as one submission and all 64
// timed out). Checked twice: when the call is submitted (the work queued ahead of it, on the
// caller's thread, executor.cpp) and when the driving thread plans it (its own time against what
// is left of its deadline, call_planner.cpp). A kernel never measured is always admitted.
#pragma once

#include <chrono>
#include <cstdint>

#include "executor/session/device_load.h"
#include "kem/kernel_request.h"
#include "kem/result.h"

namespace kem::executor {

// What a kernel's service times are kept under: its source, entry point, metering and
// override values (each a different pipeline, perhaps of a different cost).
uint64_t service_key(const KernelRequest& request, bool metered);

// Whether a call expected to take `estimate` (zero: unknown), behind `wait` of work, can finish
// within `left`, what remains of its deadline. Otherwise the refusal: `unavailable` with a
// retry_after when only the work ahead stands in the way (`estimate` fits in `left`), or
// `timeout` when it would not fit even on an idle device (in `left`, or in `timeout`, the call's
// whole time).
Status admit(Duration wait, Duration estimate, Duration left, std::chrono::milliseconds timeout);

}  // namespace kem::executor
