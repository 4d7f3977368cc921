#include "sandbox/verdict_cache.h"

namespace kem::sandbox {

std::optional<Status> VerdictCache::find(const KernelKey& key) {
  auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  if (it->second->forget_at && Clock::now() >= *it->second->forget_at) {
    order_.erase(it->second);
    index_.erase(it);
    return std::nullopt;
  }
  order_.splice(order_.begin(), order_, it->second);
  return it->second->verdict;
}

void VerdictCache::insert(const KernelKey& key, Status verdict, std::optional<Clock::time_point> forget_at) {
  if (capacity_ == 0) return;
  if (auto it = index_.find(key); it != index_.end()) {
    it->second->verdict = std::move(verdict);
    it->second->forget_at = forget_at;
    order_.splice(order_.begin(), order_, it->second);
    return;
  }
  order_.push_front(Entry{key, std::move(verdict), forget_at});
  index_[key] = order_.begin();
  while (index_.size() > capacity_) {
    index_.erase(order_.back().key);
    order_.pop_back();
  }
}

std::shared_ptr<Flight> VerdictCache::flight(const KernelKey& key) const {
  auto it = flights_.find(key);
  return it == flights_.end() ? nullptr : it->second;
}

std::shared_ptr<Flight> VerdictCache::begin(const KernelKey& key) {
  auto f = std::make_shared<Flight>();
  flights_[key] = f;
  return f;
}

}  // namespace kem::sandbox
