#include "gateway_pool.h"

#include <algorithm>

namespace kem::store {

GatewayPool::GatewayPool(std::vector<std::string> urls, std::chrono::milliseconds initial, std::chrono::milliseconds max)
    : initial_(initial), max_(max) {
  for (std::string& url : urls) states_.push_back(State{std::move(url), 0, {}, {}});
}

std::vector<GatewayPool::Slot> GatewayPool::slots(Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  std::vector<Slot> out;
  for (std::size_t i = 0; i < states_.size(); ++i) {
    const State& state = states_[i];
    Slot slot{i, state.url, state.until > now, {}, state.last_failure};
    if (slot.backing_off) slot.wait_left = std::chrono::ceil<std::chrono::milliseconds>(state.until - now);
    out.push_back(std::move(slot));
  }
  return out;
}

void GatewayPool::succeeded(std::size_t index) {
  std::lock_guard lock(mutex_);
  states_.at(index).consecutive_failures = 0;
  states_.at(index).until = {};
}

void GatewayPool::failed(std::size_t index, const std::string& reason, std::chrono::milliseconds retry_after,
                         Clock::time_point now) {
  std::lock_guard lock(mutex_);
  State& state = states_.at(index);
  state.consecutive_failures = std::min(state.consecutive_failures + 1, 30u);
  std::chrono::milliseconds pause = initial_ * (1LL << std::min(state.consecutive_failures - 1, 20u));
  pause = std::min(std::max(pause, retry_after), max_);
  state.until = now + pause;
  state.last_failure = reason;
}

}  // namespace kem::store
