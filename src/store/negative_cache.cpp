#include "negative_cache.h"

namespace kem::store {

NegativeCache::NegativeCache(std::chrono::milliseconds ttl, std::size_t max_entries)
    : ttl_(ttl), max_entries_(max_entries) {}

std::optional<Error> NegativeCache::get(const std::string& id, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return std::nullopt;
  if (it->second.expires <= now) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.error;
}

void NegativeCache::put(const std::string& id, Error error, Clock::time_point now) {
  if (ttl_.count() <= 0) return;
  std::lock_guard lock(mutex_);
  if (entries_.size() >= max_entries_) {
    std::erase_if(entries_, [now](const auto& item) { return item.second.expires <= now; });
    // Still full of live entries: forgetting them all only costs a few refetches.
    if (entries_.size() >= max_entries_) entries_.clear();
  }
  entries_[id] = Entry{std::move(error), now + ttl_};
}

}  // namespace kem::store
