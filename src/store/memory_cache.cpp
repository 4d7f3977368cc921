#include "memory_cache.h"

namespace kem::store {

MemoryCache::MemoryCache(std::size_t capacity_bytes) : capacity_(capacity_bytes) {}

std::shared_ptr<const CacheEntry> MemoryCache::get(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto it = index_.find(id);
  if (it == index_.end()) return nullptr;
  order_.splice(order_.begin(), order_, it->second);
  return *it->second;
}

void MemoryCache::put(std::shared_ptr<const CacheEntry> entry) {
  if (!entry || entry->source.size() > capacity_) return;
  std::lock_guard lock(mutex_);
  if (auto it = index_.find(entry->id); it != index_.end()) {
    used_ -= (*it->second)->source.size();
    order_.erase(it->second);
    index_.erase(it);
  }
  used_ += entry->source.size();
  const std::string id = entry->id;
  order_.push_front(std::move(entry));
  index_[id] = order_.begin();
  while (used_ > capacity_) {
    used_ -= order_.back()->source.size();
    index_.erase(order_.back()->id);
    order_.pop_back();
  }
}

std::size_t MemoryCache::size_bytes() const {
  std::lock_guard lock(mutex_);
  return used_;
}

}  // namespace kem::store
