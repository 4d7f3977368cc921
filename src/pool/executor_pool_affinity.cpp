#include "pool/executor_pool_affinity.h"

#include <functional>

namespace kem::pool {

uint64_t kernel_key(std::string_view source, std::string_view entry, bool metered, std::string_view overrides) {
  uint64_t h = std::hash<std::string_view>{}(source);
  // boost::hash_combine's mixing, so that (source, entry) pairs spread well.
  h ^= std::hash<std::string_view>{}(entry) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  if (!overrides.empty())  // other values are another pipeline, warm or not on other devices
    h ^= std::hash<std::string_view>{}(overrides) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return metered ? h : ~h;
}

uint64_t WarmDevices::devices(uint64_t kernel) {
  auto it = index_.find(kernel);
  if (it == index_.end()) return 0;
  order_.splice(order_.begin(), order_, it->second);
  return it->second->second;
}

void WarmDevices::add(uint64_t kernel, size_t device) {
  if (device >= kMaxDevices) return;
  const uint64_t bit = uint64_t{1} << device;
  if (auto it = index_.find(kernel); it != index_.end()) {
    it->second->second |= bit;
    order_.splice(order_.begin(), order_, it->second);
    return;
  }
  order_.emplace_front(kernel, bit);
  index_[kernel] = order_.begin();
  if (order_.size() > capacity_) {
    index_.erase(order_.back().first);
    order_.pop_back();
  }
}

void WarmDevices::forget(size_t device) {
  if (device >= kMaxDevices) return;
  const uint64_t bit = uint64_t{1} << device;
  for (auto it = order_.begin(); it != order_.end();) {
    it->second &= ~bit;
    if (it->second == 0) {
      index_.erase(it->first);
      it = order_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace kem::pool
