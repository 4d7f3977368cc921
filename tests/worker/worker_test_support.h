// Shared by the worker suites: a service whose devices are in the GPU worker process, and a
// stream of small calls from "other callers" whose every answer is checked.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "kem/service.h"
#include "test_support.h"

namespace kem::test {

inline ServiceOptions worker_service_options() {
  ServiceOptions o;
  o.devices.adapters = {""};
  o.store.disk_cache = false;
  o.store.offline = true;
  o.worker.isolate = true;
  // These suites test what the worker contains: kernels must reach it. The sandbox, which keeps
  // most of them from ever getting there, has its own suites (tests/sandbox/).
  o.sandbox.enabled = false;
  return o;
}

inline std::unique_ptr<Service> make_service(ServiceOptions o) {
  auto created = Service::create(std::move(o));
  EXPECT_TRUE(created.ok()) << created.error().message;
  return created.ok() ? std::move(created).value() : nullptr;
}

inline bool process_exists(long pid) { return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH); }

// Other callers: small double-integer calls, one after another on their own thread, each
// answer compared with the CPU's. Calls in flight when a worker ends may fail with device_lost
// (or unavailable while none runs); every other answer must be exact.
class SmallCallStream {
 public:
  explicit SmallCallStream(Service& service) : service_(service), source_(read_kernel("double-integer.wgsl")) {
    thread_ = std::thread([this] { loop(); });
  }
  ~SmallCallStream() { stop(); }
  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Waits until `n` more calls succeeded (at most `timeout`); false if they did not.
  bool wait_for_successes(size_t n, std::chrono::milliseconds timeout) {
    const size_t target = ok_ + n;
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (ok_ < target && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return ok_ >= target;
  }
  size_t ok() const { return ok_; }
  size_t lost() const { return lost_; }
  size_t wrong() const { return wrong_; }
  double slowest_ms() const {
    std::lock_guard lock(mutex_);
    return slowest_ms_;
  }
  std::string first_lost() const {
    std::lock_guard lock(mutex_);
    return first_lost_;
  }
  std::string first_wrong() const {
    std::lock_guard lock(mutex_);
    return first_wrong_;
  }

 private:
  void loop() {
    for (uint32_t seed = 1; !stopping_; ++seed) {
      auto input = random_bytes(64, seed);
      KernelRequest r;
      r.input = input;
      r.timeout = std::chrono::milliseconds(10000);
      const auto start = std::chrono::steady_clock::now();
      auto out = service_.run(KernelRef::inline_source(source_), r);
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      if (out && *out == doubled(input, input.size())) {
        ++ok_;
        std::lock_guard lock(mutex_);
        slowest_ms_ = std::max(slowest_ms_, ms);
      } else if (!out && (out.error().code == ErrorCode::device_lost || out.error().code == ErrorCode::unavailable)) {
        ++lost_;
        std::lock_guard lock(mutex_);
        if (first_lost_.empty() || lost_ == 5) first_lost_ += " | " + out.error().message;
      } else {
        ++wrong_;
        std::lock_guard lock(mutex_);
        if (first_wrong_.empty()) first_wrong_ = out ? "wrong bytes" : out.error().message;
      }
    }
  }
  Service& service_;
  const std::string source_;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> ok_{0}, lost_{0}, wrong_{0};
  mutable std::mutex mutex_;
  double slowest_ms_ = 0;
  std::string first_wrong_, first_lost_;
  std::thread thread_;
};

}  // namespace kem::test
