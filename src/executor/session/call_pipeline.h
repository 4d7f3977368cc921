// The one pipeline every group of calls goes through, whatever moves its bytes:
//
//   lay out (strategy) -> arenas -> bind groups -> upload inputs (strategy) -> params, meters
//   -> one submission: clear outputs, dispatches, output copies (strategy), meter copies
//   -> download outputs (strategy) -> map the readback -> device failures -> meters -> delivery
//
// It owns what the paths share: the arenas, the bind groups kept across calls, the deadline
// waits, and whether the device had to be abandoned. Used by the thread that drives the device.
#pragma once

#include <chrono>
#include <functional>
#include <span>
#include <vector>

#include "executor/session/bind_group_cache.h"
#include "executor/session/buffers.h"
#include "executor/session/counters.h"
#include "executor/session/transfer_strategy.h"
#include "webgpu/device.h"

namespace kem::executor {

// Answers calls still in the executor's queue whose deadline passed and returns the earliest
// deadline left there. The pipeline calls it while it waits for the GPU, so no queued call waits
// past its deadline behind a long group.
using QueueExpiry = std::function<gpu::Clock::time_point()>;

class CallPipeline {
 public:
  // `spin`: how long the wait for a group's readback polls before it blocks.
  CallPipeline(gpu::Device& device, Counters& counters, std::chrono::nanoseconds spin)
      : device_(device), counters_(counters), spin_(spin) {}

  // Runs `calls` in one submission, their bytes moved by `transfer`; answers every one of them.
  // `expire_queued` may be empty (nothing else queued to watch).
  void run(std::span<PreparedCall> calls, TransferStrategy& transfer, const QueueExpiry& expire_queued);

  // A group outlived every deadline in it while the GPU may still hold its work, or the device
  // was lost: nothing more may go to this device.
  bool abandoned() const { return abandoned_; }

 private:
  Result<Arenas> arenas_for(const BatchLayout& layout);
  // The bind group and dispatch of every call, into dispatches_.
  Status bind(std::span<PreparedCall> calls, const Arenas& arenas);
  Result<WGPUBindGroup> bind_group(const PreparedCall& c, const Arenas& arenas);
  void write_params_and_meters(std::span<PreparedCall> calls, const BatchLayout& layout, const Arenas& arenas);
  // Waits for `map`, answering each call whose deadline passes first with a timeout, and
  // expiring queued calls meanwhile; polls for up to `spin` first. False when the group is over
  // (every call answered).
  bool wait_for(const gpu::PendingMap& map, std::span<PreparedCall> calls, const QueueExpiry& expire_queued,
                std::chrono::nanoseconds spin);
  void deliver(std::span<PreparedCall> calls, TransferStrategy& transfer, const uint8_t* readback);
  // Records the time of one call of the group's kernel (device_load.h), when the group tells it.
  void measure(std::span<PreparedCall> calls, Duration took);
  void fail_unanswered(std::span<PreparedCall> calls, const Error& error);

  gpu::Device& device_;
  Counters& counters_;
  std::chrono::nanoseconds spin_;
  CallBuffers buffers_;
  BindGroupCache bind_groups_;
  uint64_t bind_groups_generation_ = 0;  // buffers_.bound_generation() the cached groups refer to
  std::vector<gpu::Commands::Dispatch> dispatches_;  // reused across groups
  std::vector<uint8_t> params_and_meters_image_;    // host image of one such upload; reused
  bool abandoned_ = false;
};

}  // namespace kem::executor
