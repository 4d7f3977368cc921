// Shared-memory arenas for large inputs and outputs of calls in the GPU worker, reused across
// calls: a region is created, and mapped by the worker, once; later calls of a similar size
// reuse it, so a large call pays no memfd, no mapping and no page faults after the first.
// Sizes go in powers of two from 1 MiB. At most `cache_bytes` are kept idle; a region released
// past that is destroyed, and `destroyed(id)` tells the workers that mapped it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "kem/result.h"
#include "worker/shared_memory.h"

namespace kem::worker {

class TransferArenas {
 public:
  struct Arena {
    uint64_t id;
    std::unique_ptr<SharedMemory> memory;
  };
  using Lease = std::shared_ptr<Arena>;  // back to the arenas when the last holder lets go

  TransferArenas(uint64_t cache_bytes, std::function<void(uint64_t)> destroyed);
  ~TransferArenas();
  Result<Lease> lease(uint64_t bytes);

 private:
  void give_back(Arena* arena);
  struct State {
    std::mutex mutex;
    std::multimap<size_t, std::unique_ptr<Arena>> idle;  // by size
    uint64_t idle_bytes = 0, next_id = 0;
  };
  std::shared_ptr<State> state_;
  const uint64_t cache_bytes_;
  std::function<void(uint64_t)> destroyed_;
};

}  // namespace kem::worker
