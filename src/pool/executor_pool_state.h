// The shared state of an ExecutorPool: its devices, their load and rotation, and the scheduling
// decision. One mutex guards all of it; nothing slow runs under it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kem/executor.h"
#include "kem/executor_pool.h"
#include "pool/executor_pool_affinity.h"

namespace kem::pool {

using PoolClock = std::chrono::steady_clock;

struct DeviceSlot {
  std::string selector;
  std::unique_ptr<Executor> executor;
  size_t load = 0;                 // calls and checks this pool has given it, not yet finished
  bool in_rotation = true;
  bool lose_next_call = false;     // test hook: the next call finishing here is lost
  bool destroy_pending = false;    // the reconnect thread destroys the device first
  uint64_t retried_elsewhere = 0, removals = 0;
  std::chrono::milliseconds backoff{0};
  PoolClock::time_point next_attempt{};
};

class PoolState {
 public:
  PoolState(const ExecutorPoolOptions& options, std::vector<DeviceSlot> slots);

  // Picks the device for one call of `kernel` and counts it there until release(). Never
  // `excluded`; std::nullopt only when there is no other device in the rotation to retry on.
  std::optional<size_t> acquire(uint64_t kernel, std::optional<size_t> excluded = std::nullopt);
  void release(size_t device);
  // The kernel ran (so is compiled) on `device`.
  void warm(uint64_t kernel, size_t device);
  // Takes a lost device out of the rotation and wakes the reconnect thread; with `destroy`, that
  // thread destroys the device first (test hook).
  void take_out(size_t device, bool destroy = false);
  // Test hook: true once, for the next call finishing on `device` after lose_next_call was set.
  bool consume_lose_next_call(size_t device);
  void set_lose_next_call(size_t device);
  void count_retry(size_t from_device);

  // Calls accepted by the pool and not yet completed (the destructor waits for none).
  void call_started();
  void call_finished();
  void wait_for_no_calls();

  // The reconnect thread: brings devices back with back-off until stop().
  void reconnect_loop();
  void stop();

  size_t size() const { return slots_.size(); }
  Executor& executor(size_t device) { return *slots_[device].executor; }
  const std::string& selector(size_t device) const { return slots_[device].selector; }
  struct Snapshot {
    size_t load;
    bool in_rotation;
    uint64_t retried_elsewhere, removals;
  };
  Snapshot snapshot(size_t device) const;
  uint64_t retries() const;

 private:
  void take_out_locked(size_t device, bool destroy);
  bool bring_back(std::unique_lock<std::mutex>& lock, size_t device);

  const size_t affinity_slack_;
  const std::chrono::milliseconds first_delay_, most_delay_;

  mutable std::mutex mutex_;
  std::condition_variable reconnect_wake_;
  std::condition_variable calls_done_;
  bool reconnect_wanted_ = false;
  bool stopping_ = false;
  size_t calls_in_flight_ = 0;
  size_t round_robin_ = 0;
  uint64_t retries_ = 0;
  WarmDevices warm_;
  // Declared last, so destroyed first: each executor joins its GPU thread, which may still be
  // leaving a completion that touched the members above.
  std::vector<DeviceSlot> slots_;
};

}  // namespace kem::pool
