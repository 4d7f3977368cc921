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

 private:
  WGPUBufferUsage usage_;
  gpu::BufferHandle buffer_;
  uint64_t capacity_ = 0;
};

struct CallBuffers {
  ReusableBuffer input{WGPUBufferUsage_Storage | WGPUBufferUsage_CopyDst};
  ReusableBuffer output{WGPUBufferUsage_Storage | WGPUBufferUsage_CopySrc | WGPUBufferUsage_CopyDst};
  ReusableBuffer params{WGPUBufferUsage_Uniform | WGPUBufferUsage_CopyDst};
  ReusableBuffer readback{WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst};  // output, then meter
  ReusableBuffer meter{WGPUBufferUsage_Storage | WGPUBufferUsage_CopyDst | WGPUBufferUsage_CopySrc};
};

}  // namespace kem::executor
