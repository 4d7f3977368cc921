// Where each call of a group lives in the shared buffers. Offsets are aligned to the adapter's
// binding alignments; every call binds exactly its own slice, so no call can see another's bytes.
#pragma once

#include <cstdint>
#include <span>

#include "executor/session/prepared_call.h"

namespace kem::executor {

// The adapter's offset alignments for storage and uniform bindings.
struct BindingAlignment {
  uint64_t storage = 256, uniform = 256;
};

struct BatchLayout {
  uint64_t input_bytes = 0, output_bytes = 0, params_bytes = 0, meter_bytes = 0;
  uint64_t readback_meter_base = 0, readback_bytes = 0;
  bool metered = false, has_params = false;
};

// Assigns every call its slices (filling `at`) and returns the buffer sizes the group needs:
// outputs are read back as one range, the meters behind them.
BatchLayout lay_out(std::span<PreparedCall> calls, BindingAlignment alignment);

}  // namespace kem::executor
