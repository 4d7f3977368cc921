// Everything tied to one WebGPU device: the device, its compiled kernels, its buffers and bind
// groups. When the device is lost or abandoned, the executor drops the session and makes a new
// one.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "executor/batch_layout.h"
#include "executor/bind_group_cache.h"
#include "executor/buffers.h"
#include "executor/call_shape.h"
#include "executor/counters.h"
#include "executor/pending_call.h"
#include "executor/pipeline_cache.h"
#include "executor/staged_transfer.h"
#include "kem/executor.h"
#include "webgpu/device.h"

namespace kem::executor {

class GpuSession {
 public:
  static Result<std::unique_ptr<GpuSession>> create(gpu::Instance& instance, const gpu::Adapter& adapter,
                                                    const ExecutorOptions& options, Counters& counters);

  // Runs calls, completing each exactly once: small calls together in batches, large ones alone.
  // Stops early when the session becomes unusable (device lost, or a batch outlived every
  // deadline in it and was abandoned) and returns how many calls it consumed; the rest are for
  // a new session.
  // `expire_queued` answers calls still in the executor's queue whose deadline passed and
  // returns the earliest deadline left there: the session calls it while it waits for the GPU,
  // so no queued call waits past its deadline behind a long batch.
  using QueueExpiry = std::function<gpu::Clock::time_point()>;
  size_t run_calls(std::span<PendingCall> calls, const QueueExpiry& expire_queued);

  Result<std::shared_ptr<CompiledKernel>> kernel(std::string_view source, std::string_view entry, bool metered);

  bool healthy() const { return !abandoned_ && !device_->lost(); }
  gpu::Device& device() { return *device_; }

 private:
  GpuSession(std::unique_ptr<gpu::Device> device, const ExecutorOptions& options, Counters& counters,
             bool cpu_adapter);

  // Checks the call against its kernel and the limits; nothing touches the GPU yet.
  Result<PreparedCall> prepare(PendingCall& call);
  bool batchable(const PreparedCall& call) const;
  bool staged(const PreparedCall& call) const;
  // A large call alone, its input and output moved through the staged transfer.
  void run_staged(PreparedCall& call);
  // Where the output goes: the caller's memory when it gave some, else `fallback`.
  Result<uint8_t*> output_destination(const PreparedCall& call, uint8_t* fallback);
  // One submission and one readback for all of `calls`; completes every one of them.
  void run_batch(std::span<PreparedCall> calls);
  void upload(std::span<PreparedCall> calls, const BatchLayout& layout, WGPUBuffer input, WGPUBuffer params,
              WGPUBuffer meter);
  Result<WGPUBindGroup> bind_group(const PreparedCall& call, WGPUBuffer input, WGPUBuffer output,
                                   WGPUBuffer params, WGPUBuffer meter);
  // Waits for the readback, answering each call whose deadline passes first with a timeout.
  // False when the batch is over (every call answered); the device is then abandoned if needed.
  bool wait_for(const gpu::PendingMap& map, std::span<PreparedCall> calls);
  void deliver(std::span<PreparedCall> calls, const uint8_t* mapped);

  std::unique_ptr<gpu::Device> device_;
  const ExecutorOptions& options_;
  Counters& counters_;
  DeviceLimits limits_;
  uint64_t storage_alignment_ = 256, uniform_alignment_ = 256;
  std::chrono::nanoseconds spin_{0};  // ExecutorOptions::spin_wait, resolved for this adapter
  PipelineCache cache_;
  uint64_t next_kernel_serial_ = 1;
  CallBuffers buffers_;
  BindGroupCache bind_groups_;
  uint64_t bind_groups_generation_ = 0;
  const QueueExpiry* expire_queued_ = nullptr;  // during run_calls
  std::vector<uint8_t> staging_;  // host image of a batch's packed uploads, reused
  std::unique_ptr<StagedTransfer> staged_;   // made on the first large call
  std::unique_ptr<uint8_t[]> large_output_;  // a large output when the caller gave no memory
  uint64_t large_output_capacity_ = 0;
  bool abandoned_ = false;
};

}  // namespace kem::executor
