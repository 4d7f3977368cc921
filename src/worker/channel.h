// One end of the link between the service and its GPU worker. Two paths, one order:
//  - a ring of small-message slots in shared memory each way (message_ring.h): every call and
//    reply of a few KB goes there, a copy and an atomic store, and a polling receiver sees it
//    without a system call;
//  - a SOCK_SEQPACKET socket pair for the rest: messages with a descriptor (a shared-memory
//    region), messages larger than a slot (larger than a socket buffer: through a memfd of
//    their own, "spilled"), a doorbell that wakes a sleeping receiver, and the end of the other
//    side (a closed end is seen at once).
// Each message has a sequence number, and the receiver delivers them in that order whichever
// path each took: a call never overtakes the kernel it names.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <sys/types.h>
#include <utility>
#include <vector>

#include "kem/result.h"
#include "worker/message_ring.h"
#include "worker/shared_memory.h"

namespace kem::worker {

class Channel {
 public:
  // A connected pair: ours, and the descriptor to hand to the child (not close-on-exec here:
  // the child gets it at a fixed number). Ours has the rings; the child's end learns them
  // from the first message on the socket. `rings` false: the socket alone (for comparison,
  // bench/worker-channel).
  static Result<std::pair<std::unique_ptr<Channel>, int>> pair(bool rings = true);
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
  // Reads one socket message (blocking); what it was.
  enum class Took { delivered, stashed, nothing, closed };
  Result<Took> take_from_socket(std::vector<uint8_t>& message, int& fd);
  bool deliverable() const;  // a message is waiting in the ring, the socket or the stash
  void attach(std::unique_ptr<SharedMemory> rings, bool service_side);
  void touch();

  int fd_;
  std::mutex send_mutex_;
  uint64_t sent_ = 0;  // sequence numbers, guarded by send_mutex_
  std::unique_ptr<SharedMemory> rings_;
  std::optional<MessageRing> out_, in_;  // set once, before the other side can use them

  // The receiver's (one thread at a time).
  std::unique_ptr<uint8_t[]> buffer_;  // one socket message at most
  uint64_t expected_ = 1;              // the next sequence number to deliver
  uint64_t socket_read_ = 0;           // sequenced messages read from the socket
  struct Stashed {
    uint64_t seq = 0;
    std::vector<uint8_t> message;
    int fd = -1;
  };
  std::optional<Stashed> stash_;  // a socket message that came before its ring predecessor
  std::atomic<int64_t> last_message_ns_{0};  // steady_clock, either way
};

}  // namespace kem::worker
