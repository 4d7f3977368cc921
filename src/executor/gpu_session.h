// Everything tied to one WebGPU device: the device, its compiled kernels and its buffers.
// When the device is lost or abandoned, the executor drops the session and makes a new one.
#pragma once

#include <functional>
#include <memory>

#include "executor/buffers.h"
#include "executor/call_shape.h"
#include "executor/counters.h"
#include "executor/pipeline_cache.h"
#include "kem/executor.h"
#include "webgpu/device.h"

namespace kem::executor {

class GpuSession {
 public:
  static Result<std::unique_ptr<GpuSession>> create(gpu::Instance& instance, const gpu::Adapter& adapter,
                                                    const ExecutorOptions& options, Counters& counters);

  // Runs one call. `deliver` sees the output while it is mapped. A timeout leaves the session
  // unusable (work may still be running on it): check healthy() afterwards.
  Status run(const KernelRequest& request, gpu::Clock::time_point deadline,
             const std::function<void(OutputView)>& deliver);

  Result<std::shared_ptr<CompiledKernel>> kernel(std::string_view source, std::string_view entry, bool metered);

  bool healthy() const { return !abandoned_ && !device_->lost(); }
  gpu::Device& device() { return *device_; }

 private:
  GpuSession(std::unique_ptr<gpu::Device> device, const ExecutorOptions& options, Counters& counters);
  Status upload(const KernelRequest& request, const CallShape& shape, WGPUBuffer input, WGPUBuffer params);

  std::unique_ptr<gpu::Device> device_;
  const ExecutorOptions& options_;
  Counters& counters_;
  DeviceLimits limits_;
  PipelineCache cache_;
  CallBuffers buffers_;
  bool abandoned_ = false;
};

}  // namespace kem::executor
