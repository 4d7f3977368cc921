// A call the planner has checked, compiled and shaped: what the pipeline runs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "executor/call_shape.h"
#include "executor/compiled_kernel.h"
#include "executor/session/pending_call.h"

namespace kem::executor {

// Where a call lives in its group's buffers (see batch_layout.h).
struct Slices {
  uint64_t input = 0, output = 0, params = 0, meter = 0;  // offsets in the group's buffers
  uint64_t readback_output = 0, readback_meter = 0;        // offsets in the readback buffer
};

struct PreparedCall {
  PendingCall* call = nullptr;
  std::shared_ptr<CompiledKernel> kernel;
  CallShape shape;
  uint32_t loop_budget = 0;  // effective budget when the kernel is metered
  std::chrono::nanoseconds estimate{0};       // expected GPU time as planned: the shortest recent (zero: never measured)
  std::chrono::nanoseconds estimate_high{0};  // and the longest recent, for batching
  Slices at;
  bool answered = false;  // its completion has run

  void finish(Result<OutputView> result) {
    answered = true;
    call->answer(std::move(result));
  }
};

// The memory the caller gave for the output (KernelRequest::output_into), or nullptr when it
// gave no such function; an error when the function gave none.
inline Result<uint8_t*> caller_output_memory(const PreparedCall& c) {
  if (!c.call->request.output_into) return static_cast<uint8_t*>(nullptr);
  uint8_t* memory = c.call->request.output_into(c.shape.output_bytes);
  if (!memory)
    return make_error(ErrorCode::limit_exceeded, "no memory for an output of " + std::to_string(c.shape.output_bytes) +
                                                     " bytes (output_into gave none)");
  return memory;
}

}  // namespace kem::executor
