// The pool's reconnect thread: brings devices that left the rotation back, off the callers' path.
#include "pool/executor_pool_state.h"

namespace kem::pool {

void PoolState::reconnect_loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    reconnect_wanted_ = false;
    std::optional<PoolClock::time_point> next;
    for (size_t i = 0; i < slots_.size() && !stopping_; ++i) {
      DeviceSlot& s = slots_[i];
      if (s.in_rotation) continue;
      if (s.next_attempt > PoolClock::now()) {
        next = next ? std::min(*next, s.next_attempt) : s.next_attempt;
        continue;
      }
      if (!bring_back(lock, i)) {
        s.next_attempt = PoolClock::now() + s.backoff;
        s.backoff = std::min(s.backoff * 2, most_delay_);
        next = next ? std::min(*next, s.next_attempt) : s.next_attempt;
      }
    }
    if (stopping_) break;
    auto woken = [&] { return stopping_ || reconnect_wanted_; };
    if (next) reconnect_wake_.wait_until(lock, *next, woken);
    else reconnect_wake_.wait(lock, woken);
  }
}

// Called with the lock held; releases it while the executor works (a reconnect waits behind the
// calls already queued on that device). True when the device is back in the rotation.
bool PoolState::bring_back(std::unique_lock<std::mutex>& lock, size_t device) {
  DeviceSlot& s = slots_[device];
  const bool destroy = std::exchange(s.destroy_pending, false);
  Executor& executor = *s.executor;
  lock.unlock();
  if (destroy) executor.simulate_device_loss();
  Status status = executor.reconnect();  // healthy() is up to date once it returns
  lock.lock();
  // Lost again meanwhile (a test hook), or not healthy after all: try again later.
  if (!status || s.destroy_pending || !executor.healthy()) return false;
  s.in_rotation = true;
  s.backoff = first_delay_;
  return true;
}

void PoolState::stop() {
  std::lock_guard lock(mutex_);
  stopping_ = true;
  reconnect_wake_.notify_all();
}

}  // namespace kem::pool
