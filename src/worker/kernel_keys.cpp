#include "worker/kernel_keys.h"

#include <vector>

namespace kem::worker {

uint64_t KernelKeys::key(std::string_view source, const std::function<void(uint64_t)>& forgotten) {
  std::vector<uint64_t> dropped;
  uint64_t key;
  {
    std::lock_guard lock(mutex_);
    if (auto it = keys_.find(source); it != keys_.end()) {
      recent_.splice(recent_.begin(), recent_, it->second.recent);
      return it->second.key;
    }
    key = ++next_;
    auto [it, inserted] = keys_.emplace(std::string(source), Entry{key, {}});
    recent_.push_front(it->first);
    it->second.recent = recent_.begin();
    bytes_ += source.size();
    // The newest stays, however large: the call that brought it needs it.
    while (recent_.size() > 1 && (recent_.size() > most_kernels_ || bytes_ > most_bytes_)) {
      auto last = keys_.find(recent_.back());
      bytes_ -= last->first.size();
      dropped.push_back(last->second.key);
      recent_.pop_back();
      keys_.erase(last);
    }
  }
  for (uint64_t k : dropped) forgotten(k);
  return key;
}

}  // namespace kem::worker
