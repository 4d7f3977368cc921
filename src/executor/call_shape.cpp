#include "executor/call_shape.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <string>

namespace kem::executor {
namespace {

Error limit(const std::string& what) { return make_error(ErrorCode::limit_exceeded, what); }
Error invalid(const std::string& what) { return make_error(ErrorCode::invalid_argument, what); }

uint32_t read_u32(std::span<const uint8_t> bytes, size_t index) {
  uint32_t v = 0;
  std::memcpy(&v, bytes.data() + index * 4, 4);
  return v;  // little-endian hosts only (x86-64, arm64), as is WebGPU's buffer layout
}

Result<uint32_t> groups_for(uint64_t items, uint32_t per_group, const char* axis, uint32_t max) {
  uint64_t groups = (items + per_group - 1) / per_group;
  if (groups == 0) groups = 1;
  if (groups > max)
    return limit(std::string("dispatch needs ") + std::to_string(groups) + " workgroups along " + axis +
                 ", over the adapter's maxComputeWorkgroupsPerDimension of " + std::to_string(max) +
                 "; use a larger @workgroup_size or give explicit workgroups");
  return static_cast<uint32_t>(groups);
}

// Every path's grid, checked once more whole: drivers count a dispatch's workgroups in 32 bits
// (lavapipe ran only 196,607 of 65,535^3 and answered as if it had run them all), and WGSL has
// no invocation index wider than u32 (global_invocation_id per axis, and any linear index a
// kernel computes from it), so a grid past either bound would run in part or alias silently.
// A partial output is never an answer: such a dispatch is refused.
Status check_grid(const std::array<uint32_t, 3>& groups, const std::array<uint32_t, 3>& size) {
  const uint64_t total = uint64_t{groups[0]} * groups[1] * groups[2];
  const std::string grid = std::to_string(groups[0]) + " x " + std::to_string(groups[1]) + " x " + std::to_string(groups[2]);
  if (total > UINT32_MAX)
    return limit("dispatch of " + grid + " = " + std::to_string(total) +
                 " workgroups is over 4294967295 in all (drivers count workgroups in 32 bits)");
  static const char* const kAxis[3] = {"x", "y", "z"};
  for (int axis = 0; axis < 3; ++axis) {
    if (uint64_t{groups[axis]} * size[axis] > uint64_t{UINT32_MAX} + 1)
      return limit(std::string("dispatch of ") + grid + " workgroups of " + std::to_string(size[axis]) + " along " +
                   kAxis[axis] + " is over 2^32 invocations along it (global_invocation_id is a u32)");
  }
  const uint64_t per_group = uint64_t{size[0]} * size[1] * size[2];
  // total <= 2^32 - 1 and per_group <= 2^32 (workgroup sizes are small): no 64-bit overflow.
  if (per_group != 0 && total > UINT64_MAX / per_group) return limit("dispatch of " + grid + " overflows");
  const uint64_t invocations = total * per_group;
  if (invocations > UINT32_MAX)
    return limit("dispatch of " + grid + " workgroups of " + std::to_string(size[0]) + " x " + std::to_string(size[1]) +
                 " x " + std::to_string(size[2]) + " = " + std::to_string(invocations) +
                 " invocations is over 4294967295 in all (a kernel's linear invocation index is a u32)");
  return {};
}

}  // namespace

Result<CallShape> shape_call(const KernelRequest& request, const ExecutorOptions& options,
                             const DeviceLimits& limits, const KernelShape& kernel) {
  const auto& workgroup_size = kernel.workgroup_size;
  const bool declares_params = kernel.declares_params;
  CallShape shape;
  if (request.input.empty()) return invalid("input is empty: the kernel contract needs at least 1 byte");
  if (request.input.size() > options.max_input_bytes)
    return limit("input of " + std::to_string(request.input.size()) + " bytes is over the maximum of " +
                 std::to_string(options.max_input_bytes));
  shape.input_bytes = request.input.size();
  shape.input_binding_bytes = round_up(shape.input_bytes, 4);

  if (request.output_size) {
    if (*request.output_size == 0) return invalid("output_size must be at least 1 byte");
    shape.output_bytes = *request.output_size;
  } else {
    if (request.output_size_hint < 1) return invalid("output_size_hint must be at least 1");
    // Checked multiplication: a huge hint must not wrap around to a small size.
    if (request.output_size_hint > options.max_output_bytes / shape.input_bytes + 1)
      return limit("output of " + std::to_string(shape.input_bytes) + " x " +
                   std::to_string(request.output_size_hint) + " bytes is over the maximum of " +
                   std::to_string(options.max_output_bytes) + " bytes");
    shape.output_bytes = shape.input_bytes * request.output_size_hint;
  }
  if (shape.output_bytes > options.max_output_bytes)
    return limit("output of " + std::to_string(shape.output_bytes) + " bytes is over the maximum of " +
                 std::to_string(options.max_output_bytes) + " bytes");
  shape.output_binding_bytes = round_up(shape.output_bytes, 4);

  const uint64_t storage_max = std::min(limits.max_storage_binding, limits.max_buffer);
  if (shape.input_binding_bytes > storage_max)
    return limit("input of " + std::to_string(shape.input_bytes) +
                 " bytes is over the adapter's storage binding limit of " + std::to_string(storage_max));
  if (shape.output_binding_bytes > storage_max)
    return limit("output of " + std::to_string(shape.output_bytes) +
                 " bytes is over the adapter's storage binding limit of " + std::to_string(storage_max));

  if (request.params.size() % 4 != 0)
    return invalid("params must be a whole number of 4-byte words, got " +
                   std::to_string(request.params.size()) + " bytes");
  if (!request.params.empty() && !declares_params)
    return invalid("params were given but the kernel declares no @group(0) @binding(2)");
  if (declares_params) {
    shape.params_binding_bytes = std::max<uint64_t>(16, round_up(request.params.size(), 16));
    if (shape.params_binding_bytes > limits.max_uniform_binding)
      return limit("params of " + std::to_string(request.params.size()) +
                   " bytes are over the adapter's uniform binding limit of " +
                   std::to_string(limits.max_uniform_binding));
  }

  const uint32_t max = limits.max_workgroups_per_dimension;
  if (request.workgroups) {
    const auto& w = *request.workgroups;
    for (int axis = 0; axis < 3; ++axis) {
      if (w[axis] == 0) return invalid("explicit workgroup counts must be at least 1");
      if (w[axis] > max)
        return limit("explicit workgroup count " + std::to_string(w[axis]) +
                     " is over the adapter's maxComputeWorkgroupsPerDimension of " + std::to_string(max));
    }
    // Each count fits; the totals are checked below, as for every path.
    shape.workgroups = w;
  } else if (!request.params.empty()) {
    // The image case: a 2-D grid over width = params[0], height = params[1] (1 if absent).
    uint32_t width = read_u32(request.params, 0);
    uint32_t height = request.params.size() >= 8 ? read_u32(request.params, 1) : 1;
    if (width == 0 || height == 0) return invalid("params[0] (width) and params[1] (height) must be at least 1");
    auto x = groups_for(width, workgroup_size[0], "x", max);
    if (!x) return x.take_error();
    auto y = groups_for(height, workgroup_size[1], "y", max);
    if (!y) return y.take_error();
    shape.workgroups = {*x, *y, 1};
  } else {
    // The default: 1-D over the output's 32-bit words, with the kernel's own workgroup size.
    const uint64_t words = shape.output_binding_bytes / 4;
    const uint64_t groups = std::max<uint64_t>(1, (words + workgroup_size[0] - 1) / workgroup_size[0]);
    if (groups > max && kernel.reads_num_workgroups) {
      // Too many for one dimension: a kernel that reads num_workgroups linearises its index
      // (id.x + id.y * num_workgroups.x * workgroup_size.x), so rows of `max` groups work.
      const uint64_t rows = (groups + max - 1) / max;
      if (rows > max) return limit("dispatch needs " + std::to_string(groups) + " workgroups, over " +
                                   std::to_string(max) + " x " + std::to_string(max));
      shape.workgroups = {max, static_cast<uint32_t>(rows), 1};
    } else {
      auto x = groups_for(words, workgroup_size[0], "x", max);
      if (!x) return x.take_error();
      shape.workgroups = {*x, 1, 1};
    }
  }
  if (Status grid = check_grid(shape.workgroups, workgroup_size); !grid) return grid.take_error();
  return shape;
}

}  // namespace kem::executor
