// Large transfers through KEM's own mapped staging buffers, in chunks, instead of
// wgpuQueueWriteBuffer and one big readback: the host copies chunk k+1 (on several threads)
// while the GPU's copy engine moves chunk k, and no staging memory is allocated per call.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "executor/parallel_copy.h"
#include "kem/result.h"
#include "webgpu/device.h"

namespace kem::executor {

class StagedTransfer {
 public:
  // Chunks of `chunk_bytes` (a multiple of 4), `slots` of them in flight each way, copied by
  // `copy_threads` helpers besides the calling thread.
  StagedTransfer(uint64_t chunk_bytes, size_t slots, size_t copy_threads);

  // Writes `input` into `destination` [0, binding_bytes), zero-padding past input.size().
  // Returns false when the deadline passed (the device must then be abandoned).
  Result<bool> upload(gpu::Device& device, std::span<const uint8_t> input, uint64_t binding_bytes,
                      WGPUBuffer destination, gpu::Clock::time_point deadline);

  // Copies [0, bytes) of `source` (submitted work included) into `out`. False on timeout.
  Result<bool> download(gpu::Device& device, WGPUBuffer source, std::span<uint8_t> out,
                        gpu::Clock::time_point deadline);

 private:
  struct Slot {
    gpu::BufferHandle buffer;
    std::optional<gpu::PendingMap> map;  // a map in flight
    bool mapped = false;                 // host-visible now (created mapped, or map completed)
  };
  Result<bool> ready(gpu::Device& device, Slot& slot, gpu::Clock::time_point deadline);

  uint64_t chunk_;
  std::vector<Slot> up_, down_;
  ParallelCopy copier_;
};

}  // namespace kem::executor
