// The ordered gateway list and each gateway's back-off: after a 429, a 5xx, a timeout or a
// broken connection a gateway is skipped for a while (doubling per consecutive failure up to
// a maximum, or what its Retry-After asks), so one sick gateway does not slow every fetch.
// Thread-safe.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

namespace kem::store {

class GatewayPool {
 public:
  using Clock = std::chrono::steady_clock;
  GatewayPool(std::vector<std::string> urls, std::chrono::milliseconds initial, std::chrono::milliseconds max);

  struct Slot {
    std::size_t index = 0;
    std::string url;
    bool backing_off = false;
    std::chrono::milliseconds wait_left{0};
    std::string last_failure;
  };
  // Every gateway in order, with whether it is backing off right now.
  std::vector<Slot> slots(Clock::time_point now = Clock::now()) const;

  void succeeded(std::size_t index);
  // retry_after: the gateway's own request (Retry-After), when it made one.
  void failed(std::size_t index, const std::string& reason, std::chrono::milliseconds retry_after = {},
              Clock::time_point now = Clock::now());

 private:
  struct State {
    std::string url;
    unsigned consecutive_failures = 0;
    Clock::time_point until{};
    std::string last_failure;
  };
  mutable std::mutex mutex_;
  std::vector<State> states_;
  std::chrono::milliseconds initial_, max_;
};

}  // namespace kem::store
