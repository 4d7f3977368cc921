// Decides how each call runs before anything touches the GPU: checks it against its deadline,
// its kernel (compiled through the pipeline cache) and the limits, shapes it, and picks its
// route: in a batch, alone through queue writes, or alone through staged chunks.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "executor/call_shape.h"
#include "executor/pipeline_cache.h"
#include "executor/session/counters.h"
#include "executor/session/prepared_call.h"
#include "kem/executor_options.h"
#include "webgpu/device.h"

namespace kem::executor {

enum class Route {
  batch,          // small: shares a submission and a readback with the calls queued next to it
  alone,          // too large to batch: its own submission, still through queue writes
  staged_chunks,  // large: its own submission, moved through mapped staging buffers in chunks
};

class CallPlanner {
 public:
  CallPlanner(gpu::Device& device, const ExecutorOptions& options, Counters& counters);

  // The compiled kernel, from the cache or compiled now (and cached).
  Result<std::shared_ptr<CompiledKernel>> kernel(std::string_view source, std::string_view entry, bool metered,
                                                 std::span<const std::pair<std::string, double>> overrides = {});
  // The call checked and shaped, or why it cannot run.
  Result<PreparedCall> prepare(PendingCall& call);
  Route route(const PreparedCall& call) const;
  // Calls in one batch at most.
  size_t batch_limit() const;

 private:
  gpu::Device& device_;
  const ExecutorOptions& options_;
  Counters& counters_;
  DeviceLimits limits_;
  PipelineCache cache_;
  uint64_t next_kernel_serial_ = 1;
};

}  // namespace kem::executor
