#include "executor/session/gpu_session.h"

#include <algorithm>

namespace kem::executor {
namespace {

BindingAlignment alignment_of(const gpu::Device& device) {
  const auto& l = device.limits();
  return {std::max<uint64_t>(8, l.minStorageBufferOffsetAlignment), std::max<uint64_t>(16, l.minUniformBufferOffsetAlignment)};
}

}  // namespace

Result<std::unique_ptr<GpuSession>> GpuSession::create(gpu::Instance& instance, const gpu::Adapter& adapter,
                                                       const ExecutorOptions& options, Counters& counters) {
  auto device = gpu::Device::create(instance, adapter);
  if (!device) return device.take_error();
  return std::unique_ptr<GpuSession>(
      new GpuSession(std::move(device).value(), options, counters, adapter.description.adapter_type == "cpu"));
}

GpuSession::GpuSession(std::unique_ptr<gpu::Device> device, const ExecutorOptions& options, Counters& counters,
                       bool cpu_adapter)
    : device_(std::move(device)),
      planner_(*device_, options, counters),
      pipeline_(*device_, counters,
                options.spin_wait.value_or(cpu_adapter ? std::chrono::microseconds(0) : std::chrono::microseconds(100))),
      queue_writes_(*device_, alignment_of(*device_)),
      staged_chunks_(*device_, options, alignment_of(*device_)) {}

TransferStrategy& GpuSession::strategy_for(Route route) {
  if (route == Route::staged_chunks) return staged_chunks_;
  return queue_writes_;
}

size_t GpuSession::run_calls(std::span<PendingCall> calls, const QueueExpiry& expire_queued) {
  group_.clear();
  // Runs the group gathered so far (if any); false when the session became unusable.
  auto flush = [&](Route route) {
    if (!group_.empty()) pipeline_.run(group_, strategy_for(route), expire_queued);
    group_.clear();
    return healthy();
  };
  for (size_t i = 0; i < calls.size(); ++i) {
    auto prepared = planner_.prepare(calls[i]);
    if (!prepared) {
      calls[i].answer(prepared.take_error());
      continue;
    }
    const Route route = planner_.route(*prepared);
    if (route == Route::batch) {
      group_.push_back(std::move(prepared).value());
      if (group_.size() >= planner_.batch_limit() && !flush(route)) return i + 1;
      continue;
    }
    if (!flush(Route::batch)) return i;  // calls in order: the batch gathered so far goes first
    group_.push_back(std::move(prepared).value());
    if (!flush(route)) return i + 1;
  }
  flush(Route::batch);
  return calls.size();
}

}  // namespace kem::executor
