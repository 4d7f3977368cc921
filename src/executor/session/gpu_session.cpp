#include "executor/session/gpu_session.h"

#include <algorithm>

#include "executor/session/admission.h"

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
      staged_chunks_(*device_, options, alignment_of(*device_)),
      options_(options),
      counters_(counters) {}

TransferStrategy& GpuSession::strategy_for(Route route) {
  if (route == Route::staged_chunks) return staged_chunks_;
  return queue_writes_;
}

size_t GpuSession::run_calls(std::span<PendingCall> calls, const QueueExpiry& expire_queued) {
  group_.clear();
  // Calls of kernels never measured here go last, each in a submission of its own (a probe):
  // their cost is unknown, so a stranger's new kernel that turns out to take seconds neither
  // delays the known calls that were queued with it nor takes them down with it when it
  // outlives its deadline (issue 17). Known calls keep their order, and so do the probes.
  if (options_.admission)
    std::stable_partition(calls.begin(), calls.end(), [&](const PendingCall& c) {
      return counters_.load.times.estimate(c.kernel_key).count() > 0;
    });
  // A batch answers all its calls when its one submission ends, so it may only grow while its
  // expected time still fits every deadline in it: planned with the calls' longest recent times
  // and a margin (the machine's other work slows a group down), because joining is optional and
  // a wrong guess costs every call in the group. Refusals use the shortest (admission.h).
  constexpr double kBatchMargin = 1.5;
  Duration group_time{0}, group_time_high{0};
  gpu::Clock::time_point group_deadline = gpu::Clock::time_point::max();
  // Runs the group gathered so far (if any); false when the session became unusable.
  auto flush = [&](Route route) {
    if (!group_.empty()) pipeline_.run(group_, strategy_for(route), expire_queued);
    group_.clear();
    group_time = group_time_high = Duration(0);
    group_deadline = gpu::Clock::time_point::max();
    return healthy();
  };
  // Where a batch call goes when the group so far has an expected time: along with it, while
  // every deadline still fits; after it, when only the group's deadlines do not fit; nowhere
  // (refused now, the error says why) when even after the group its own deadline does not.
  auto place = [&](PreparedCall& next) -> Result<bool> {  // true: the group must be run first
    if (group_.empty() || !options_.admission) return false;
    // A kernel never measured runs alone (a probe, below): the group goes first. Its later calls
    // wait for the probe, which measures it (64 calls of a new 26 s kernel once went to the GPU
    // as one submission and all timed out).
    if (next.estimate.count() == 0) return true;
    const auto now = gpu::Clock::now();
    if (Status admitted = admit(group_time, next.estimate, next.call->deadline - now, next.call->timeout.timeout);
        !admitted) {
      ++counters_.refused;
      return admitted.take_error();
    }
    const auto planned = std::chrono::duration_cast<Duration>((group_time_high + next.estimate_high) * kBatchMargin);
    return now + planned > group_deadline;
  };
  // After the group it waited for (which may have measured its kernel): does it still fit, by
  // the shortest estimate?
  auto still_fits = [&](PreparedCall& next) -> Status {
    const auto now = gpu::Clock::now();
    if (now >= next.call->deadline) return next.call->deadline_error("the call waited in the queue past its deadline");
    if (const Duration fresh = counters_.load.times.estimate(next.call->kernel_key); fresh.count() > 0) {
      next.estimate = fresh;
      next.estimate_high = counters_.load.times.estimate_high(next.call->kernel_key);
    }
    if (next.estimate.count() == 0) return {};
    Status admitted = admit(Duration(0), next.estimate, next.call->deadline - now, next.call->timeout.timeout);
    if (!admitted) ++counters_.refused;
    return admitted;
  };
  for (size_t i = 0; i < calls.size(); ++i) {
    // A kernel not compiled yet: the call waits off to the side while the driver compiles it.
    auto kernel = planner_.ready_or_park(calls[i]);
    if (!kernel) continue;
    auto prepared = planner_.prepare(calls[i], std::move(kernel));
    if (!prepared) {
      calls[i].answer(prepared.take_error());
      continue;
    }
    const Route route = planner_.route(*prepared);
    if (route == Route::batch) {
      auto placed = place(*prepared);
      if (!placed) {
        calls[i].answer(placed.take_error());
        continue;
      }
      if (*placed) {
        if (!flush(route)) return i;  // this call waits for the next group
        if (Status fits = still_fits(*prepared); !fits) {
          calls[i].answer(fits.take_error());
          continue;
        }
      }
      const bool probe = options_.admission && prepared->estimate.count() == 0;
      group_time += prepared->estimate;
      group_time_high += prepared->estimate_high;
      group_deadline = std::min(group_deadline, calls[i].deadline);
      group_.push_back(std::move(prepared).value());
      if ((probe || group_.size() >= planner_.batch_limit()) && !flush(route)) return i + 1;
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
