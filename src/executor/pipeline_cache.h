// Compiled kernels kept warm, keyed by (source, entry point, metered or not, override values:
// overrides_cache_key in src/wgsl/overrides.h), least recently
// used out first. Used only by the thread driving the device (kem/executor.h), so it needs no
// lock.
#pragma once

#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "executor/compiled_kernel.h"

namespace kem::executor {

class PipelineCache {
 public:
  explicit PipelineCache(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // The cached kernel, or nullptr.
  std::shared_ptr<CompiledKernel> find(std::string_view source, std::string_view entry, bool metered,
                                       std::string_view overrides = {});
  void insert(std::string_view source, std::string_view entry, bool metered, std::string_view overrides,
              std::shared_ptr<CompiledKernel> kernel);
  void clear();
  size_t size() const { return entries_.size(); }

 private:
  // The whole source is part of the key (not just its hash): two kernels never share a
  // pipeline. Lookups use views, so a warm call copies nothing.
  struct KeyView {
    std::string_view source, entry;
    bool metered;
    std::string_view overrides;
    bool operator==(const KeyView&) const = default;
  };
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(const KeyView& k) const {
      size_t h = std::hash<std::string_view>{}(k.source);
      h ^= std::hash<std::string_view>{}(k.entry) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
      h ^= std::hash<std::string_view>{}(k.overrides) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
      return h ^ static_cast<size_t>(k.metered);
    }
  };
  struct Entry {
    std::string source, entry;
    bool metered;
    std::string overrides;
    std::shared_ptr<CompiledKernel> kernel;
    KeyView key() const { return {source, entry, metered, overrides}; }
  };

  size_t capacity_;
  std::list<Entry> lru_;  // most recent first; list nodes never move, so views into them stay valid
  std::unordered_map<KeyView, std::list<Entry>::iterator, KeyHash> entries_;
};

}  // namespace kem::executor
