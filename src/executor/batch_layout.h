// Where each call of a batch lives in the shared buffers. Offsets are aligned to the adapter's
// binding alignments; every call binds exactly its own slice, so no call can see another's bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "executor/call_shape.h"
#include "executor/compiled_kernel.h"
#include "executor/pending_call.h"

namespace kem::executor {

struct Slices {
  uint64_t input = 0, output = 0, params = 0, meter = 0;  // offsets in the batch's buffers
  uint64_t readback_output = 0, readback_meter = 0;        // offsets in the readback buffer
};

struct PreparedCall {
  PendingCall* call = nullptr;
  std::shared_ptr<CompiledKernel> kernel;
  CallShape shape;
  uint32_t loop_budget = 0;  // effective budget when the kernel is metered
  Slices at;
  bool answered = false;  // its completion has run

  void finish(Result<OutputView> result) {
    answered = true;
    call->answer(std::move(result));
  }
};

struct BatchLayout {
  uint64_t input_bytes = 0, output_bytes = 0, params_bytes = 0, meter_bytes = 0;
  uint64_t readback_meter_base = 0, readback_bytes = 0;
  bool metered = false, has_params = false;
};

// Assigns every call its slices (filling `at`) and returns the buffer sizes the batch needs.
BatchLayout lay_out(std::span<PreparedCall> calls, uint64_t storage_alignment, uint64_t uniform_alignment);

}  // namespace kem::executor
