// The in-memory layer in front of the disk cache: verified entries, least recently used first
// out once their sources pass a byte budget. Thread-safe.
#pragma once

#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "cache_entry.h"

namespace kem::store {

class MemoryCache {
 public:
  explicit MemoryCache(std::size_t capacity_bytes);

  // Shared, immutable: a hit costs no copy of the source under the lock.
  std::shared_ptr<const CacheEntry> get(const std::string& id);
  // An entry larger than the whole budget is not kept.
  void put(std::shared_ptr<const CacheEntry> entry);

  std::size_t size_bytes() const;

 private:
  using Order = std::list<std::shared_ptr<const CacheEntry>>;
  mutable std::mutex mutex_;
  std::size_t capacity_;
  std::size_t used_ = 0;
  Order order_;  // front: most recently used
  std::unordered_map<std::string, Order::iterator> index_;
};

}  // namespace kem::store
