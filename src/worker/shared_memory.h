// Shared memory between the service and its GPU worker: a memfd, mapped on both sides. Large
// inputs are written into one by the service and read by the worker's upload; large outputs
// are written into one by the worker's download and read by the service. The descriptor goes
// over the worker's socket once (SCM_RIGHTS); both sides then keep their mapping.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "kem/result.h"

namespace kem::worker {

class SharedMemory {
 public:
  // A new region of `bytes` (rounded up to a page).
  static Result<std::unique_ptr<SharedMemory>> create(size_t bytes);
  // Maps a region received from the other side (takes ownership of `fd`).
  static Result<std::unique_ptr<SharedMemory>> map(int fd, size_t bytes);
  ~SharedMemory();
  SharedMemory(const SharedMemory&) = delete;
  SharedMemory& operator=(const SharedMemory&) = delete;

  int fd() const { return fd_; }
  size_t size() const { return size_; }
  uint8_t* data() const { return data_; }
  std::span<uint8_t> bytes() const { return {data_, size_}; }

 private:
  SharedMemory(int fd, uint8_t* data, size_t size) : fd_(fd), data_(data), size_(size) {}
  int fd_;
  uint8_t* data_;
  size_t size_;
};

}  // namespace kem::worker
