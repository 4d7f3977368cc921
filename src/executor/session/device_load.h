// What a device has to do and how fast it does it: the measured service time of each kernel,
// and the work admitted but not yet answered. Admission (admission.h) estimates a new call's
// queue wait from it; batching (gpu_session.cpp) keeps a group within its members' deadlines.
// Written by the thread driving the device and by callers submitting, read by both: thread-safe
// (a mutex for the per-kernel times, atomics for the totals).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "webgpu/device.h"

namespace kem::executor {

using Duration = std::chrono::nanoseconds;

class ServiceTimes {
 public:
  static constexpr size_t kSamples = 8;
  explicit ServiceTimes(size_t capacity = 4096) : capacity_(capacity) {}

  // The expected GPU time of one call of `kernel`: the shortest of its last kSamples calls, not
  // their mean, because a kernel's cost often depends on its input (a loop bound read from it)
  // and a refusal must only happen when even its cheapest recent call could not fit. Zero for a
  // kernel never measured here: it is admitted, and its first call measures it.
  Duration estimate(uint64_t kernel) const;
  // The longest of those calls: what batching plans with, since joining a batch delays every
  // call in it and should only happen when it surely fits.
  Duration estimate_high(uint64_t kernel) const;
  void record(uint64_t kernel, Duration per_call);

 private:
  struct Recent {
    std::array<int64_t, kSamples> ns{};
    uint8_t count = 0, next = 0;
  };
  mutable std::mutex mutex_;
  size_t capacity_;
  std::unordered_map<uint64_t, Recent> kernels_;
};

struct DeviceLoad {
  ServiceTimes times;
  // The estimates of every call admitted and not yet answered (queued, or in the running group).
  std::atomic<int64_t> backlog_ns{0};
  // The group on the GPU now: when it started (steady clock, ns; 0 when none) and the sum of its
  // calls' estimates, so that what it has already done is not counted as still ahead.
  std::atomic<int64_t> group_started_ns{0};
  std::atomic<int64_t> group_estimate_ns{0};

  // How long a call submitted now would wait for the work ahead of it.
  Duration expected_wait(gpu::Clock::time_point now) const;
};

}  // namespace kem::executor
