// memcpy over several threads, for copies into and out of mapped GPU memory: one thread moves
// about 10 GB/s, far below PCIe Gen5 (55 GB/s each way), so large transfers split their copies.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace kem::executor {

class ParallelCopy {
 public:
  // `threads` helpers besides the caller (0: the caller copies alone).
  explicit ParallelCopy(size_t threads);
  ~ParallelCopy();
  ParallelCopy(const ParallelCopy&) = delete;
  ParallelCopy& operator=(const ParallelCopy&) = delete;

  // Copies `size` bytes; returns when all of them are copied. One copy at a time (by the thread
  // driving the device).
  void copy(uint8_t* dst, const uint8_t* src, size_t size);

  // Helpers worth having on this machine: the hardware threads less the caller, at most 15.
  static size_t default_threads();

 private:
  void work(size_t index);

  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable start_, finished_;
  uint64_t generation_ = 0;
  size_t pending_ = 0;
  bool stopping_ = false;
  uint8_t* dst_ = nullptr;
  const uint8_t* src_ = nullptr;
  size_t part_ = 0, size_ = 0;
};

}  // namespace kem::executor
