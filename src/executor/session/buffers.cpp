#include "executor/session/buffers.h"

#include <bit>

namespace kem::executor {

Result<WGPUBuffer> ReusableBuffer::ensure(gpu::Device& device, uint64_t size) {
  if (buffer_ && capacity_ >= size) return buffer_.get();
  // Powers of two (from 256 bytes) bound the number of reallocations; past the device's limit,
  // allocate exactly what is asked.
  uint64_t capacity = std::max<uint64_t>(256, std::bit_ceil(size));
  if (capacity > device.limits().maxBufferSize) capacity = size;
  buffer_.reset();
  capacity_ = 0;
  auto buffer = device.create_buffer(capacity, usage_);
  if (!buffer) return buffer.take_error();
  buffer_ = std::move(buffer).value();
  capacity_ = capacity;
  ++generation_;
  return buffer_.get();
}

}  // namespace kem::executor
