#include "executor/pipeline_cache.h"

namespace kem::executor {

// The whole source is the key (not just its hash): two kernels must never share a pipeline.
std::string PipelineCache::key(std::string_view source, std::string_view entry, bool metered) {
  std::string k;
  k.reserve(entry.size() + 2 + source.size());
  k.push_back(metered ? 'm' : 'u');
  k.append(entry).push_back('\0');
  k.append(source);
  return k;
}

std::shared_ptr<CompiledKernel> PipelineCache::find(std::string_view source, std::string_view entry, bool metered) {
  auto it = entries_.find(key(source, entry, metered));
  if (it == entries_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->kernel;
}

void PipelineCache::insert(std::string_view source, std::string_view entry, bool metered,
                           std::shared_ptr<CompiledKernel> kernel) {
  std::string k = key(source, entry, metered);
  if (auto it = entries_.find(k); it != entries_.end()) {
    it->second->kernel = std::move(kernel);
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.push_front(Entry{std::move(k), std::move(kernel)});
  entries_.emplace(lru_.front().key, lru_.begin());
  while (entries_.size() > capacity_) {
    entries_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

void PipelineCache::clear() {
  entries_.clear();
  lru_.clear();
}

}  // namespace kem::executor
