// The buffers a call needs, kept across calls and grown on demand (powers of two), so a warm
// call allocates nothing. Isolation does not rely on fresh buffers: every call binds exactly
// its own byte ranges, overwrites its input range and clears its output range first.
#pragma once

#include <cstdint>

#include "kem/result.h"
#include "webgpu/device.h"

namespace kem::executor {

class ReusableBuffer {
 public:
  explicit ReusableBuffer(WGPUBufferUsage usage) : usage_(usage) {}
  // A buffer of at least `size` bytes (valid until the next call of ensure()).
  Result<WGPUBuffer> ensure(gpu::Device& device, uint64_t size);
  void reset() { buffer_.reset(), capacity_ = 0; }
  // How many times ensure() made a new buffer: anything bound to the old one is stale.
  uint64_t generation() const { return generation_; }

 private:
  WGPUBufferUsage usage_;
  gpu::BufferHandle buffer_;
  uint64_t capacity_ = 0;
  uint64_t generation_ = 0;
};

// The arenas of a batch: every call of a batch binds its own aligned slice of each.
struct CallBuffers {
  ReusableBuffer input{WGPUBufferUsage_Storage | WGPUBufferUsage_CopyDst};
  ReusableBuffer output{WGPUBufferUsage_Storage | WGPUBufferUsage_CopySrc | WGPUBufferUsage_CopyDst};
  ReusableBuffer params{WGPUBufferUsage_Uniform | WGPUBufferUsage_CopyDst};
  ReusableBuffer readback{WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst};  // output, then meter
  ReusableBuffer meter{WGPUBufferUsage_Storage | WGPUBufferUsage_CopyDst | WGPUBufferUsage_CopySrc};

  // Changes whenever a buffer that bind groups refer to is reallocated.
  uint64_t bound_generation() const {
    return input.generation() + output.generation() + params.generation() + meter.generation();
  }
};

}  // namespace kem::executor
