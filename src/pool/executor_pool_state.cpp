#include "pool/executor_pool_state.h"

#include <algorithm>
#include <limits>

namespace kem::pool {

PoolState::PoolState(const ExecutorPoolOptions& options, std::vector<DeviceSlot> slots)
    : affinity_slack_(options.affinity_slack),
      first_delay_(std::max(options.reconnect_first_delay, std::chrono::milliseconds(1))),
      most_delay_(std::max(options.reconnect_most_delay, first_delay_)),
      warm_(options.affinity_capacity),
      slots_(std::move(slots)) {
  for (auto& s : slots_) s.backoff = first_delay_;
}

std::optional<size_t> PoolState::acquire(uint64_t kernel, std::optional<size_t> excluded) {
  std::lock_guard lock(mutex_);
  // A device whose executor saw its device fail (a loss between calls, an abandoned call) leaves
  // the rotation here; its executor would make a new device on the next call, but the reconnect
  // thread does that off the callers' path.
  for (size_t i = 0; i < slots_.size(); ++i)
    if (slots_[i].in_rotation && !slots_[i].executor->healthy()) take_out_locked(i, false);

  bool any_in_rotation = false;
  for (size_t i = 0; i < slots_.size(); ++i) any_in_rotation |= slots_[i].in_rotation && i != excluded;
  if (!any_in_rotation && excluded) return std::nullopt;
  // Every device is out: the least loaded one's executor makes a new device for this call.
  auto eligible = [&](size_t i) { return any_in_rotation ? slots_[i].in_rotation && i != excluded : true; };

  size_t least = std::numeric_limits<size_t>::max();
  for (size_t i = 0; i < slots_.size(); ++i)
    if (eligible(i)) least = std::min(least, slots_[i].load);

  // A warm device wins when it is idle, or when no device is idle and it is not much busier
  // than the least loaded one: a call never waits behind a busy GPU while another is idle.
  const uint64_t warm = warm_.devices(kernel);
  std::optional<size_t> best_warm;
  for (size_t i = 0; i < slots_.size(); ++i)
    if (eligible(i) && (warm >> i & 1) && (!best_warm || slots_[i].load < slots_[*best_warm].load)) best_warm = i;
  std::optional<size_t> chosen;
  if (best_warm && (slots_[*best_warm].load == 0 || (least > 0 && slots_[*best_warm].load <= least + affinity_slack_))) {
    chosen = best_warm;
  } else {
    // Among the least loaded, take turns, so that cold kernels spread over the devices.
    for (size_t k = 0; k < slots_.size() && !chosen; ++k) {
      size_t i = (round_robin_ + k) % slots_.size();
      if (eligible(i) && slots_[i].load == least) chosen = i;
    }
    round_robin_ = (*chosen + 1) % slots_.size();
  }
  ++slots_[*chosen].load;
  return chosen;
}

void PoolState::release(size_t device) {
  std::lock_guard lock(mutex_);
  --slots_[device].load;
}

void PoolState::warm(uint64_t kernel, size_t device) {
  std::lock_guard lock(mutex_);
  // A device out of the rotation is being replaced: what it compiled is gone.
  try {
    if (slots_[device].in_rotation) warm_.add(kernel, device);
  } catch (const std::exception&) {
    // Only allocation can fail; the pool merely forgets a hint.
  }
}

void PoolState::take_out(size_t device, bool destroy) {
  std::lock_guard lock(mutex_);
  take_out_locked(device, destroy);
}

void PoolState::take_out_locked(size_t device, bool destroy) {
  DeviceSlot& s = slots_[device];
  if (destroy) s.destroy_pending = true;
  if (s.in_rotation) {
    s.in_rotation = false;
    ++s.removals;
    s.backoff = first_delay_;
    s.next_attempt = PoolClock::now();
    warm_.forget(device);
  }
  reconnect_wanted_ = true;
  reconnect_wake_.notify_one();
}

bool PoolState::consume_lose_next_call(size_t device) {
  std::lock_guard lock(mutex_);
  return std::exchange(slots_[device].lose_next_call, false);
}

void PoolState::set_lose_next_call(size_t device) {
  std::lock_guard lock(mutex_);
  slots_[device].lose_next_call = true;
}

void PoolState::count_retry(size_t from_device) {
  std::lock_guard lock(mutex_);
  ++slots_[from_device].retried_elsewhere;
  ++retries_;
}

void PoolState::call_started() {
  std::lock_guard lock(mutex_);
  ++calls_in_flight_;
}

void PoolState::call_finished() {
  std::lock_guard lock(mutex_);
  if (--calls_in_flight_ == 0) calls_done_.notify_all();
}

void PoolState::wait_for_no_calls() {
  std::unique_lock lock(mutex_);
  calls_done_.wait(lock, [&] { return calls_in_flight_ == 0; });
}

PoolState::Snapshot PoolState::snapshot(size_t device) const {
  std::lock_guard lock(mutex_);
  const DeviceSlot& s = slots_[device];
  return {s.load, s.in_rotation, s.retried_elsewhere, s.removals};
}

uint64_t PoolState::retries() const {
  std::lock_guard lock(mutex_);
  return retries_;
}

}  // namespace kem::pool
