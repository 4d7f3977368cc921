#include "worker/channel.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "worker/shared_memory.h"

namespace kem::worker {
namespace {

// Every socket message starts with one byte saying what it is.
constexpr uint8_t kLoose = 0;     // then the message, with no sequence number: the last words
                                  // of a fatal signal's handler (worker_main.cpp), in any order
constexpr uint8_t kSpilled = 1;   // then seq, size (8 bytes each); the bytes are in the attached memfd
constexpr uint8_t kInline = 2;    // then seq, then the message
constexpr uint8_t kDoorbell = 3;  // nothing: wakes a receiver that sleeps, for a message in the ring
constexpr uint8_t kRings = 4;     // then the size; the attached memfd holds both rings
// Messages above this go through a memfd: a SOCK_SEQPACKET message must fit the send buffer.
constexpr size_t kMaxInline = 160 << 10;
constexpr size_t kReceiveBuffer = kMaxInline + 64;
constexpr int kSocketBuffer = 1 << 20;
constexpr size_t kRingsBytes = 2 * MessageRing::kBytes;

Error system_error(const char* what) { return make_error(ErrorCode::internal, std::string(what) + ": " + std::strerror(errno)); }
Error malformed(const char* what) {
  return make_error(ErrorCode::internal, std::string("a malformed message from the other side of the GPU worker's link: ") + what);
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<std::pair<std::unique_ptr<Channel>, int>> Channel::pair(bool with_rings) {
  auto rings = SharedMemory::create(with_rings ? kRingsBytes : 1);
  if (!rings) return rings.take_error();
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds) != 0) return system_error("socketpair");
  for (int fd : fds) {
    // Room for many small calls queued while the worker starts; root may pass wmem_max.
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &kSocketBuffer, sizeof kSocketBuffer) != 0)
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kSocketBuffer, sizeof kSocketBuffer);
  }
  // Ours is close-on-exec: no later child of this process inherits the worker's socket.
  ::fcntl(fds[0], F_SETFD, ::fcntl(fds[0], F_GETFD) | FD_CLOEXEC);
  auto ours = std::make_unique<Channel>(fds[0]);
  if (!with_rings) return std::pair{std::move(ours), fds[1]};
  // The rings' memfd is the first thing on the socket: the other end attaches them before it
  // reads anything that could have gone through them.
  uint8_t head[1 + 8];
  head[0] = kRings;
  const uint64_t size = (*rings)->size();
  std::memcpy(head + 1, &size, 8);
  const int memfd = (*rings)->fd();
  Status sent;
  {
    std::lock_guard lock(ours->send_mutex_);
    sent = ours->send_raw(head, sizeof head, nullptr, 0, &memfd, 1);
  }
  if (!sent) {
    close(fds[1]);
    return sent.take_error();
  }
  ours->attach(std::move(rings).value(), /*service_side=*/true);
  return std::pair{std::move(ours), fds[1]};
}

Channel::Channel(int fd) : fd_(fd), buffer_(new uint8_t[kReceiveBuffer]) {}
Channel::~Channel() {
  if (stash_ && stash_->fd >= 0) close(stash_->fd);
  close(fd_);
}

void Channel::shut_down() { ::shutdown(fd_, SHUT_RDWR); }

void Channel::attach(std::unique_ptr<SharedMemory> rings, bool service_side) {
  uint8_t* first = rings->data();
  uint8_t* second = first + MessageRing::kBytes;
  out_.emplace(service_side ? first : second);
  in_.emplace(service_side ? second : first);
  rings_ = std::move(rings);
}

void Channel::touch() { last_message_ns_.store(now_ns(), std::memory_order_relaxed); }

// Under send_mutex_.
Status Channel::send_raw(const uint8_t* head, size_t head_size, const uint8_t* body, size_t body_size,
                         const int* fds, int fd_count) {
  // The framing and the message as two pieces: no copy of the message to put a head before it.
  iovec iov[2] = {{const_cast<uint8_t*>(head), head_size}, {const_cast<uint8_t*>(body), body_size}};
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = body_size > 0 ? 2 : 1;
  alignas(cmsghdr) char control[CMSG_SPACE(2 * sizeof(int))];
  if (fd_count > 0) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(fd_count * sizeof(int));
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(fd_count * sizeof(int));
    std::memcpy(CMSG_DATA(c), fds, fd_count * sizeof(int));
  }
  while (true) {
    if (sendmsg(fd_, &msg, MSG_NOSIGNAL) >= 0) return {};
    if (errno == EINTR) continue;
    return make_error(ErrorCode::device_lost, std::string("the GPU worker's socket failed: ") + std::strerror(errno));
  }
}

Status Channel::send(const std::vector<uint8_t>& message, int fd) {
  std::lock_guard lock(send_mutex_);
  const uint64_t seq = ++sent_;
  if (fd < 0 && out_ && out_->try_push(seq, message)) {
    touch();
    if (out_->take_sleeper()) {
      const uint8_t bell = kDoorbell;
      if (Status rung = send_raw(&bell, 1, nullptr, 0, nullptr, 0); !rung) return rung;
    }
    return {};
  }
  Status sent;
  if (message.size() + 9 <= kMaxInline) {
    uint8_t head[1 + 8];
    head[0] = kInline;
    std::memcpy(head + 1, &seq, 8);
    sent = send_raw(head, sizeof head, message.data(), message.size(), &fd, fd >= 0 ? 1 : 0);
  } else {
    auto spill = SharedMemory::create(message.size());
    if (!spill) return spill.take_error();
    std::memcpy((*spill)->data(), message.data(), message.size());
    uint8_t head[1 + 8 + 8];
    head[0] = kSpilled;
    const uint64_t size = message.size();
    std::memcpy(head + 1, &seq, 8);
    std::memcpy(head + 9, &size, 8);
    const int fds[2] = {(*spill)->fd(), fd};
    // The memfd is duplicated into the receiver by the kernel; ours closes with `spill`.
    sent = send_raw(head, sizeof head, nullptr, 0, fds, fd >= 0 ? 2 : 1);
  }
  if (!sent) return sent;
  touch();
  if (out_) out_->count_socket_message();  // a receiver asleep in poll wakes on the socket itself
  return {};
}

ssize_t Channel::receive_raw(int flags, int fds[2], int& fd_count) {
  iovec iov{buffer_.get(), kReceiveBuffer};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(2 * sizeof(int))];
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do n = recvmsg(fd_, &msg, MSG_CMSG_CLOEXEC | flags);
  while (n < 0 && errno == EINTR);
  fd_count = 0;
  if (n < 0) return n;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    fd_count = static_cast<int>((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    std::memcpy(fds, CMSG_DATA(c), std::min(fd_count, 2) * sizeof(int));
    fd_count = std::min(fd_count, 2);
  }
  return n;
}

bool Channel::deliverable() const {
  if (stash_ && stash_->seq == expected_) return true;
  return in_ && (in_->has_message() || in_->socket_messages() > socket_read_);
}

Result<Channel::Took> Channel::take_from_socket(std::vector<uint8_t>& message, int& fd) {
  int fds[2] = {-1, -1};
  int fd_count = 0;
  ssize_t n = receive_raw(0, fds, fd_count);
  // The other side closed with messages of ours unread: Linux reports that once, and what it
  // sent before it ended (a worker's last replies) is still there to read.
  if (n < 0 && errno == ECONNRESET) n = receive_raw(MSG_DONTWAIT, fds, fd_count);
  if (n < 0) {
    if (errno == ECONNRESET || errno == EAGAIN) return Took::closed;
    return system_error("recvmsg on the GPU worker's socket");
  }
  auto close_all = [&] {
    for (int i = 0; i < fd_count; ++i) close(fds[i]);
  };
  if (n == 0) {
    close_all();
    return Took::closed;
  }
  const uint8_t* bytes = buffer_.get();
  const uint8_t type = bytes[0];
  if (type == kLoose) {
    close_all();
    message.assign(bytes + 1, bytes + n);
    return Took::delivered;
  }
  if (type == kDoorbell) {
    close_all();
    return Took::nothing;
  }
  if (type == kRings) {
    uint64_t size = 0;
    if (n != 9 || fd_count != 1 || in_) {
      close_all();
      return malformed("rings");
    }
    std::memcpy(&size, bytes + 1, 8);
    if (size < kRingsBytes) {
      close_all();
      return malformed("rings too small");
    }
    auto rings = SharedMemory::map(fds[0], size);
    if (!rings) return rings.take_error();
    attach(std::move(rings).value(), /*service_side=*/false);
    return Took::nothing;
  }
  uint64_t seq = 0;
  std::vector<uint8_t> got;
  int got_fd = -1;
  if (type == kInline && n >= 9) {
    std::memcpy(&seq, bytes + 1, 8);
    got.assign(bytes + 9, bytes + n);
    got_fd = fd_count > 0 ? fds[0] : -1;
  } else if (type == kSpilled && n == 17 && fd_count >= 1) {
    uint64_t size = 0;
    std::memcpy(&seq, bytes + 1, 8);
    std::memcpy(&size, bytes + 9, 8);
    auto spill = SharedMemory::map(fds[0], size);
    if (!spill) {
      if (fd_count > 1) close(fds[1]);
      return spill.take_error();
    }
    got.assign((*spill)->data(), (*spill)->data() + size);
    got_fd = fd_count > 1 ? fds[1] : -1;
  } else {
    close_all();
    return malformed("an unknown socket message");
  }
  ++socket_read_;
  if (seq == expected_) {
    ++expected_;
    message = std::move(got);
    fd = got_fd;
    return Took::delivered;
  }
  if (seq < expected_ || stash_) {
    if (got_fd >= 0) close(got_fd);
    return malformed("out of order");
  }
  stash_ = Stashed{seq, std::move(got), got_fd};
  return Took::stashed;
}

Result<Channel::Received> Channel::receive(std::vector<uint8_t>& message, int& fd, std::chrono::milliseconds timeout,
                                           std::chrono::microseconds spin) {
  fd = -1;
  const int64_t spin_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(spin).count();
  while (true) {
    if (stash_ && stash_->seq == expected_) {
      message = std::move(stash_->message);
      fd = stash_->fd;
      stash_.reset();
      ++expected_;
      touch();
      return Received::message;
    }
    bool socket_has_one = false;
    if (in_) {
      bool bad = false;
      auto front = in_->front(bad);
      if (bad) return malformed("the ring's indices");
      if (front && front->seq == expected_) {
        message.assign(front->bytes.begin(), front->bytes.end());
        in_->pop();
        ++expected_;
        touch();
        return Received::message;
      }
      if (front && front->seq < expected_) return malformed("out of order in the ring");
      // Its predecessor went over the socket, before it was put in the ring.
      socket_has_one = front.has_value() || in_->socket_messages() > socket_read_;
    }
    if (!socket_has_one) {
      // Polls until `spin` has passed since the last message either way (a send from another
      // thread meanwhile extends it), then sleeps in poll: on the socket, which a doorbell, a
      // socket message or the other side's end makes readable.
      while (!deliverable() && now_ns() < last_message_ns_.load(std::memory_order_relaxed) + spin_ns) {
        if (!in_) {  // no rings (yet): only the socket can say
          pollfd p{fd_, POLLIN, 0};
          if (poll(&p, 1, 0) > 0) break;
        }
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
      }
      if (deliverable()) continue;
      if (in_) in_->going_to_sleep();
      if (deliverable()) {
        in_->woke();
        continue;
      }
    }
    // The socket: readable now, or within the timeout (a message known to be sent is there
    // already; a malformed peer must not make the watchdog's thread wait forever).
    pollfd p{fd_, POLLIN, 0};
    int r;
    do r = poll(&p, 1, timeout.count() < 0 ? -1 : static_cast<int>(timeout.count()));
    while (r < 0 && errno == EINTR);
    if (in_) in_->woke();
    if (r < 0) return system_error("poll on the GPU worker's socket");
    if (r == 0) {
      if (deliverable()) continue;
      return Received::timed_out;
    }
    auto took = take_from_socket(message, fd);
    if (!took) return took.take_error();
    if (*took == Took::closed) return Received::closed;
    if (*took == Took::delivered) {
      touch();
      return Received::message;
    }
  }
}

}  // namespace kem::worker
