// Compiled kernels kept warm, keyed by (source, entry point, metered or not), least recently used out first.
// Owned and used by the GPU thread only, so it needs no lock.
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
  std::shared_ptr<CompiledKernel> find(std::string_view source, std::string_view entry, bool metered);
  void insert(std::string_view source, std::string_view entry, bool metered,
              std::shared_ptr<CompiledKernel> kernel);
  void clear();
  size_t size() const { return entries_.size(); }

 private:
  static std::string key(std::string_view source, std::string_view entry, bool metered);
  struct Entry {
    std::string key;
    std::shared_ptr<CompiledKernel> kernel;
  };
  size_t capacity_;
  std::list<Entry> lru_;  // most recent first
  std::unordered_map<std::string_view, std::list<Entry>::iterator> entries_;  // views into lru_ keys
};

}  // namespace kem::executor
