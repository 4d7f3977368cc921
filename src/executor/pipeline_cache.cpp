#include "executor/pipeline_cache.h"

namespace kem::executor {

std::shared_ptr<CompiledKernel> PipelineCache::find(std::string_view source, std::string_view entry, bool metered,
                                                    std::string_view overrides) {
  auto it = entries_.find(KeyView{source, entry, metered, overrides});
  if (it == entries_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->kernel;
}

void PipelineCache::insert(std::string_view source, std::string_view entry, bool metered,
                           std::string_view overrides, std::shared_ptr<CompiledKernel> kernel) {
  if (auto it = entries_.find(KeyView{source, entry, metered, overrides}); it != entries_.end()) {
    it->second->kernel = std::move(kernel);
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.push_front(Entry{std::string(source), std::string(entry), metered, std::string(overrides), std::move(kernel)});
  entries_.emplace(lru_.front().key(), lru_.begin());
  while (entries_.size() > capacity_) {
    entries_.erase(lru_.back().key());
    lru_.pop_back();
  }
}

void PipelineCache::clear() {
  entries_.clear();
  lru_.clear();
}

}  // namespace kem::executor
