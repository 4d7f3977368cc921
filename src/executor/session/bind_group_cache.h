// Bind groups kept across calls. A warm call binds the same buffers at the same offsets and
// sizes as the previous call of its kernel, so creating a bind group for it again is waste.
// Used only by the thread driving the device (kem/executor.h); cleared whenever a buffer it
// refers to is reallocated.
#pragma once

#include <cstdint>
#include <unordered_map>

#include "webgpu/handles.h"

namespace kem::executor {

struct BindGroupKey {
  uint64_t kernel_serial = 0;  // unique per compiled kernel (a freed layout's address may be reused)
  uint64_t input_offset = 0, input_size = 0;
  uint64_t output_offset = 0, output_size = 0;
  uint64_t params_offset = 0, params_size = 0;
  uint64_t meter_offset = 0;
  bool metered = false;
  bool operator==(const BindGroupKey&) const = default;
};

class BindGroupCache {
 public:
  explicit BindGroupCache(size_t capacity = 4096) : capacity_(capacity) {}
  WGPUBindGroup find(const BindGroupKey& key) const;
  // Keeps `group`; returns it.
  WGPUBindGroup insert(const BindGroupKey& key, gpu::BindGroupHandle group);
  // Called before a batch is encoded, never during: drops everything when `incoming` more would
  // pass the capacity (bind groups are cheap to remake; a busy node's steady state needs few).
  // Why never during: a bind group must not lose its last reference to the cache while only an
  // unsubmitted command buffer holds it. Dawn then frees it from the command buffer's
  // destruction inside wgpuQueueSubmit, and this Dawn build frees such a (slab-allocated) bind
  // group with the wrong deallocator: heap corruption, found by ASan under load.
  void make_room(size_t incoming);
  void clear() { groups_.clear(); }

 private:
  struct Hash {
    size_t operator()(const BindGroupKey& k) const;
  };
  size_t capacity_;
  std::unordered_map<BindGroupKey, gpu::BindGroupHandle, Hash> groups_;
};

}  // namespace kem::executor
