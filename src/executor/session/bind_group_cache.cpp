#include "executor/session/bind_group_cache.h"

namespace kem::executor {

size_t BindGroupCache::Hash::operator()(const BindGroupKey& k) const {
  uint64_t h = 1469598103934665603ull;
  for (uint64_t v : {k.kernel_serial, k.input_offset, k.input_size, k.output_offset, k.output_size,
                     k.params_offset, k.params_size, k.meter_offset, uint64_t(k.metered)}) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  }
  return static_cast<size_t>(h);
}

WGPUBindGroup BindGroupCache::find(const BindGroupKey& key) const {
  auto it = groups_.find(key);
  return it == groups_.end() ? nullptr : it->second.get();
}

void BindGroupCache::make_room(size_t incoming) {
  if (groups_.size() + incoming > capacity_) groups_.clear();
}

WGPUBindGroup BindGroupCache::insert(const BindGroupKey& key, gpu::BindGroupHandle group) {
  WGPUBindGroup raw = group.get();
  groups_.insert_or_assign(key, std::move(group));
  return raw;
}

}  // namespace kem::executor
