// Where each kernel is warm: which devices of a pool have compiled it, so that the scheduler
// can send its next calls there instead of compiling it again elsewhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace kem::pool {

// A kernel's identity for scheduling: a hash of its source, entry point and metering. A
// collision only costs a compile on a device thought warm, never a wrong result.
// `overrides`: overrides_cache_key of the request's override values (src/wgsl/overrides.h).
uint64_t kernel_key(std::string_view source, std::string_view entry, bool metered,
                    std::string_view overrides = {});

// A bounded LRU map from kernel key to a bit mask of devices (a pool has at most 64). Not
// thread-safe: the pool guards it with its own mutex.
class WarmDevices {
 public:
  static constexpr size_t kMaxDevices = 64;

  explicit WarmDevices(size_t capacity) : capacity_(capacity ? capacity : 1) {}

  // The devices where the kernel is warm (bit i for device i); 0 when none is known.
  uint64_t devices(uint64_t kernel);
  void add(uint64_t kernel, size_t device);
  // The device lost every compiled kernel (a new device starts with an empty pipeline cache).
  void forget(size_t device);

 private:
  using Entry = std::pair<uint64_t, uint64_t>;  // kernel key, device mask
  size_t capacity_;
  std::list<Entry> order_;  // most recently used first
  std::unordered_map<uint64_t, std::list<Entry>::iterator> index_;
};

}  // namespace kem::pool
