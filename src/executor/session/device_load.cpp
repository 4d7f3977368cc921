#include "executor/session/device_load.h"

#include <algorithm>

namespace kem::executor {

Duration ServiceTimes::estimate(uint64_t kernel) const {
  std::lock_guard lock(mutex_);
  auto it = kernels_.find(kernel);
  if (it == kernels_.end() || it->second.count == 0) return Duration(0);
  const Recent& r = it->second;
  return Duration(*std::min_element(r.ns.begin(), r.ns.begin() + r.count));
}

Duration ServiceTimes::estimate_high(uint64_t kernel) const {
  std::lock_guard lock(mutex_);
  auto it = kernels_.find(kernel);
  if (it == kernels_.end() || it->second.count == 0) return Duration(0);
  const Recent& r = it->second;
  return Duration(*std::max_element(r.ns.begin(), r.ns.begin() + r.count));
}

void ServiceTimes::record(uint64_t kernel, Duration per_call) {
  std::lock_guard lock(mutex_);
  // Bounded: past capacity the measurements start over (a refusal needs a measurement, so
  // forgetting only makes admission more lenient for a while).
  if (kernels_.size() >= capacity_ && !kernels_.contains(kernel)) kernels_.clear();
  Recent& r = kernels_[kernel];
  r.ns[r.next] = std::max<int64_t>(1, per_call.count());
  r.next = static_cast<uint8_t>((r.next + 1) % kSamples);
  if (r.count < kSamples) ++r.count;
}

Duration DeviceLoad::expected_wait(gpu::Clock::time_point now) const {
  int64_t ahead = backlog_ns.load(std::memory_order_relaxed);
  if (const int64_t started = group_started_ns.load(std::memory_order_relaxed); started != 0) {
    const int64_t elapsed = std::chrono::duration_cast<Duration>(now.time_since_epoch()).count() - started;
    ahead -= std::clamp<int64_t>(elapsed, 0, group_estimate_ns.load(std::memory_order_relaxed));
  }
  return Duration(std::max<int64_t>(0, ahead));
}

}  // namespace kem::executor
