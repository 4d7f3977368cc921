// One end of the socket between the service and its GPU worker: a SOCK_SEQPACKET socket pair,
// so every message arrives whole and in order, and a closed end (the worker died) is seen at
// once by the other. A message may carry one descriptor (a shared-memory region). Messages
// larger than a socket buffer go through a memfd of their own, transparently ("spilled"): a
// 1 MB kernel source or a long compile error is as easy to send as a 4-byte call.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <sys/types.h>
#include <utility>
#include <vector>

#include "kem/result.h"

namespace kem::worker {

class Channel {
 public:
  // A connected pair: ours, and the descriptor to hand to the child (not close-on-exec here:
  // posix_spawn dup2s it to a fixed number).
  static Result<std::pair<std::unique_ptr<Channel>, int>> pair();
  explicit Channel(int fd);
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Sends one message, whole; safe from many threads at once. `fd` (or -1) goes with it.
  Status send(const std::vector<uint8_t>& message, int fd = -1);

  enum class Received { message, closed, timed_out };
  // Waits up to `timeout` (negative: forever) for the next message. `fd` gets the descriptor
  // it carried, or -1; the receiver owns it. One thread receives on an end at a time.
  //
  // Until `spin` has passed since this end last sent or received a message, the wait polls
  // instead of sleeping: on a GPU machine a thread woken from sleep costs tens of µs per
  // message, twice per call across the worker boundary (ExecutorOptions::spin_wait makes the
  // same trade). Counting from the last message either way is what makes the spin cover the
  // answer: the service's reader spins from the moment a call was sent, the worker's receiver
  // from the moment it sent a reply (a caller's next call follows its last answer).
  Result<Received> receive(std::vector<uint8_t>& message, int& fd, std::chrono::milliseconds timeout,
                           std::chrono::microseconds spin = std::chrono::microseconds(0));

  // Wakes a receive() blocked on this end (it then returns closed).
  void shut_down();

 private:
  Status send_raw(const uint8_t* head, size_t head_size, const uint8_t* body, size_t body_size, const int* fds,
                  int fd_count);
  // One recvmsg into buffer_; its size, 0 at the end of the stream, -1 with errno.
  ssize_t receive_raw(int flags, int fds[2], int& fd_count);
  void touch();

  int fd_;
  std::mutex send_mutex_;
  std::unique_ptr<uint8_t[]> buffer_;  // the receiver's: one message at most
  std::atomic<int64_t> last_message_ns_{0};  // steady_clock, either way
};

}  // namespace kem::worker
