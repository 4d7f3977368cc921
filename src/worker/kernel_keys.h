// Keys for kernel sources sent to the GPU worker: each distinct source gets a number once, so a
// call names its kernel by that number instead of carrying the source. Looked up by the whole
// source (a hash picks the bucket, the bytes decide), so two sources never share a key, however
// they were crafted. Keys are never reused; the least recently used sources are forgotten past
// a count or a size, and `forgotten` tells the worker.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace kem::worker {

class KernelKeys {
 public:
  KernelKeys(size_t most_kernels, size_t most_bytes) : most_kernels_(most_kernels), most_bytes_(most_bytes) {}
  // The key of `source`; `forgotten(key)` runs (under no lock of ours) for each source dropped
  // to make room.
  uint64_t key(std::string_view source, const std::function<void(uint64_t)>& forgotten);

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Entry {
    uint64_t key;
    std::list<std::string_view>::iterator recent;
  };
  std::mutex mutex_;
  std::unordered_map<std::string, Entry, Hash, std::equal_to<>> keys_;
  std::list<std::string_view> recent_;  // most recent first; views of keys_'s strings
  size_t bytes_ = 0;
  uint64_t next_ = 0;
  const size_t most_kernels_, most_bytes_;
};

}  // namespace kem::worker
