#include "worker/transfer_arenas.h"

#include <bit>

namespace kem::worker {

TransferArenas::TransferArenas(uint64_t cache_bytes, std::function<void(uint64_t)> destroyed)
    : state_(std::make_shared<State>()), cache_bytes_(cache_bytes), destroyed_(std::move(destroyed)) {}

TransferArenas::~TransferArenas() = default;

Result<TransferArenas::Lease> TransferArenas::lease(uint64_t bytes) {
  const uint64_t size = std::bit_ceil(std::max<uint64_t>(bytes, 1u << 20));
  std::unique_ptr<Arena> arena;
  {
    std::lock_guard lock(state_->mutex);
    if (auto it = state_->idle.lower_bound(size); it != state_->idle.end() && it->first < 2 * size) {
      arena = std::move(it->second);
      state_->idle_bytes -= it->first;
      state_->idle.erase(it);
    }
  }
  if (!arena) {
    auto memory = SharedMemory::create(size);
    if (!memory) return memory.take_error();
    std::lock_guard lock(state_->mutex);
    arena = std::make_unique<Arena>(Arena{++state_->next_id, std::move(memory).value()});
  }
  return Lease(arena.release(), [this](Arena* a) { give_back(a); });
}

void TransferArenas::give_back(Arena* raw) {
  std::unique_ptr<Arena> arena(raw);
  const size_t size = arena->memory->size();
  std::vector<std::unique_ptr<Arena>> dropped;
  {
    std::lock_guard lock(state_->mutex);
    state_->idle.emplace(size, std::move(arena));
    state_->idle_bytes += size;
    // Over the cache: the largest idle regions go first.
    while (state_->idle_bytes > cache_bytes_ && !state_->idle.empty()) {
      auto last = std::prev(state_->idle.end());
      state_->idle_bytes -= last->first;
      dropped.push_back(std::move(last->second));
      state_->idle.erase(last);
    }
  }
  for (auto& d : dropped) destroyed_(d->id);
}

}  // namespace kem::worker
