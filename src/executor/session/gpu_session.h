// Everything tied to one WebGPU device: the device, its compiled kernels, its buffers and bind
// groups. When the device is lost or abandoned, the executor retires the session and makes a new
// one. Used only by the thread that drives the device (see the threading model in
// kem/executor.h), so it has no lock.
//
// A session runs calls in three parts: the planner (call_planner.h) checks, compiles and routes
// each call; run_calls() gathers the small ones into batches; the pipeline (call_pipeline.h)
// runs each group with the transfer strategy of its route (transfer_strategy.h).
#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <vector>

#include "executor/session/call_pipeline.h"
#include "executor/session/call_planner.h"
#include "executor/session/counters.h"
#include "executor/session/pending_call.h"
#include "executor/session/queue_write_strategy.h"
#include "executor/session/staged_chunk_strategy.h"
#include "kem/executor_options.h"
#include "webgpu/device.h"

namespace kem::executor {

class GpuSession {
 public:
  static Result<std::unique_ptr<GpuSession>> create(gpu::Instance& instance, const gpu::Adapter& adapter,
                                                    const ExecutorOptions& options, Counters& counters);

  // Runs calls in order, completing each exactly once: small calls together in batches, large
  // ones alone. Stops early when the session becomes unusable (device lost, or a group outlived
  // every deadline in it and was abandoned) and returns how many calls it consumed: every call
  // before that index has been answered or taken to wait for its kernel's compile (below), none
  // after it touched; the rest are for a new session.
  size_t run_calls(std::span<PendingCall> calls, const QueueExpiry& expire_queued);

  // Kernels the driver compiles on its own threads while this session serves other calls
  // (call_planner.h, ready_or_park): the calls whose kernel is now ready, to be run; failures
  // and expired calls are answered here. The driving thread looks often while compiling().
  std::vector<PendingCall> poll_compiles(std::chrono::nanoseconds timeout) { return planner_.poll_compiles(timeout); }
  bool compiling() const { return planner_.compiling(); }
  // The calls still waiting for a compile, to answer before the session is retired.
  std::vector<PendingCall> take_parked() { return planner_.take_parked(); }

  Result<std::shared_ptr<CompiledKernel>> kernel(std::string_view source, std::string_view entry, bool metered,
                                                  std::span<const std::pair<std::string, double>> overrides = {}) {
    return planner_.kernel(source, entry, metered, overrides);
  }

  bool healthy() const { return !abandoned() && !device_->lost(); }
  // A group outlived every deadline in it (the GPU may still be running its work), or a
  // compile outlived every call that waited for it.
  bool abandoned() const { return pipeline_.abandoned() || planner_.abandoned(); }
  gpu::Device& device() { return *device_; }

 private:
  GpuSession(std::unique_ptr<gpu::Device> device, const ExecutorOptions& options, Counters& counters,
             bool cpu_adapter);
  TransferStrategy& strategy_for(Route route);

  std::unique_ptr<gpu::Device> device_;  // declared first: everything below refers to it
  CallPlanner planner_;
  CallPipeline pipeline_;
  QueueWriteStrategy queue_writes_;
  StagedChunkStrategy staged_chunks_;
  const ExecutorOptions& options_;
  Counters& counters_;
  std::vector<PreparedCall> group_;  // the group being gathered; reused
};

}  // namespace kem::executor
