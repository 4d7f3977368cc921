// (d) The floor for KEM's API: a bare Dawn loop with everything reused (instance, adapter,
// device, pipeline, buffers, bind group), built on KEM's thin WebGPU layer (src/webgpu/), one
// submission per call.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "kem/result.h"
#include "webgpu/device.h"
#include "webgpu/instance.h"

namespace kem::bench {

class RawDawn {
 public:
  // Instance, adapter (as KEM_ADAPTER selects), device, module and pipeline for `wgsl`, whose
  // entry `main` binds a read-only storage input at 0 and a storage output at 1, and reads
  // num_workgroups to linearise a 2-D dispatch.
  // `with_meter`: `wgsl` is loop metering's text, which binds KEM's 8-byte meter at 15 (set to
  // the default budget, as the executor sets it).
  static Result<std::unique_ptr<RawDawn>> create(const std::string& wgsl, bool with_meter = false);

  // Buffers (in, out, map-read) and the bind group for `bytes` in and out; kept while the
  // size stays the same. One workgroup per `bytes_per_workgroup` (1024: 256 invocations of a
  // u32 each), spread over rows past the per-dimension limit.
  Status prepare(uint64_t bytes, uint64_t bytes_per_workgroup = 1024);

  // One call: write the input, dispatch, copy to the map-read buffer (one submission), then
  // map, copy the output into `output` (`bytes` of prepare()), unmap.
  // `spin`: poll the map this long before a blocking wait (as KEM does on GPUs);
  // `clear_output`: clear the output buffer first in the same submission (as KEM does for
  // isolation), to see what each costs against the floor.
  struct Variant {
    std::chrono::nanoseconds spin{0};
    bool clear_output = false;
  };
  Status round_trip(std::span<const uint8_t> input, uint8_t* output, Variant variant);
  Status round_trip(std::span<const uint8_t> input, uint8_t* output) { return round_trip(input, output, Variant()); }

  // Device-resident: `repeats` dispatches on what the buffers hold, in one submission, then
  // wait for the queue (many per submission amortise the submit-and-wait latency, as a CUDA
  // timing of back-to-back launches does).
  Status dispatch_only(int repeats = 1);
  // Device-resident: one buffer-to-buffer copy of the input into the output (the device
  // memory ceiling a memory-bound kernel is measured against), then wait for the queue.
  Status copy_only();

 private:
  RawDawn() = default;
  std::unique_ptr<gpu::Instance> instance_;  // outlives everything below
  gpu::Adapter adapter_;
  std::unique_ptr<gpu::Device> device_;
  gpu::ShaderModuleHandle module_;
  gpu::BindGroupLayoutHandle layout_;
  gpu::ComputePipelineHandle pipeline_;
  gpu::BufferHandle input_, output_, readback_;
  gpu::BindGroupHandle group_;
  uint64_t bytes_ = 0;
  uint64_t bytes_per_workgroup_ = 1024;
  gpu::BufferHandle meter_;  // with_meter only
  std::array<uint32_t, 2> groups_{1, 1};
};

}  // namespace kem::bench
