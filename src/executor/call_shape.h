// Checks a request against the kernel contract and the limits, and works out the sizes and the
// dispatch of the call before anything touches the GPU.
#pragma once

#include <array>
#include <cstdint>

#include "kem/executor_options.h"
#include "kem/kernel_request.h"
#include "kem/reflection.h"
#include "kem/result.h"

namespace kem::executor {

struct DeviceLimits {
  uint64_t max_storage_binding = 0;
  uint64_t max_uniform_binding = 0;
  uint64_t max_buffer = 0;
  uint32_t max_workgroups_per_dimension = 0;
};

struct CallShape {
  uint64_t input_bytes = 0;          // as given
  uint64_t input_binding_bytes = 0;  // padded to 4
  uint64_t output_bytes = 0;         // returned to the caller
  uint64_t output_binding_bytes = 0; // padded to 4
  uint64_t params_binding_bytes = 0; // padded to 16; 0 when the kernel has no params binding
  std::array<uint32_t, 3> workgroups{1, 1, 1};
};

constexpr uint64_t round_up(uint64_t value, uint64_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

// What the dispatch needs to know about the kernel (from reflection).
struct KernelShape {
  std::array<uint32_t, 3> workgroup_size{1, 1, 1};
  bool declares_params = false;     // has @group(0) @binding(2)
  bool reads_num_workgroups = false;  // takes @builtin(num_workgroups): may be spread over 2-D
};

Result<CallShape> shape_call(const KernelRequest& request, const ExecutorOptions& options,
                             const DeviceLimits& limits, const KernelShape& kernel);

}  // namespace kem::executor
