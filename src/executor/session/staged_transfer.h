// Large transfers through KEM's own mapped staging buffers, in chunks, instead of
// wgpuQueueWriteBuffer and one big readback: the host copies chunk k+1 (on several threads)
// while the GPU's copy engine moves chunk k, and no staging memory is allocated per call.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "executor/session/parallel_copy.h"
#include "executor/session/transfer_strategy.h"
#include "kem/result.h"
#include "webgpu/device.h"

namespace kem::executor {

class StagedTransfer {
 public:
  // Chunks of `chunk_bytes` (a multiple of 4), `slots` of them in flight each way, copied by
  // `copy_threads` helpers besides the calling thread.
  StagedTransfer(uint64_t chunk_bytes, size_t slots, size_t copy_threads);

  // Writes `input` into `destination` [0, binding_bytes), zero-padding past input.size().
  // Every wait for a staging buffer goes through `wait` (the pipeline's, which keeps the
  // deadlines): false when it found the call over.
  Result<bool> upload(gpu::Device& device, std::span<const uint8_t> input, uint64_t binding_bytes,
                      WGPUBuffer destination, const MapWait& wait);

  // Copies [0, bytes) of `source` (submitted work included) into `out`. False as for upload().
  Result<bool> download(gpu::Device& device, WGPUBuffer source, std::span<uint8_t> out, const MapWait& wait);

 private:
  struct Slot {
    gpu::BufferHandle buffer;
    std::optional<gpu::PendingMap> map;  // a map in flight
    bool mapped = false;                 // host-visible now (created mapped, or map completed)
  };
  // Waits for the slot's map in flight, if any. False when the call is over.
  static bool ready(Slot& slot, const MapWait& wait);

  uint64_t chunk_;
  std::vector<Slot> up_, down_;
  ParallelCopy copier_;
};

}  // namespace kem::executor
