#include "sandbox/verdict_cache.h"

namespace kem::sandbox {

std::optional<Status> VerdictCache::find(const KernelKey& key) {
  auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  order_.splice(order_.begin(), order_, it->second);
  return it->second->second;
}

void VerdictCache::insert(const KernelKey& key, Status verdict) {
  if (capacity_ == 0) return;
  if (auto it = index_.find(key); it != index_.end()) {
    it->second->second = std::move(verdict);
    order_.splice(order_.begin(), order_, it->second);
    return;
  }
  order_.emplace_front(key, std::move(verdict));
  index_[key] = order_.begin();
  while (index_.size() > capacity_) {
    index_.erase(order_.back().first);
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
