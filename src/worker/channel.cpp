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

// Every message starts with one byte saying how it travels.
constexpr uint8_t kInline = 0;
constexpr uint8_t kSpilled = 1;  // then the size (8 bytes); its bytes are in the attached memfd
// Messages above this go through a memfd: a SOCK_SEQPACKET message must fit the send buffer.
constexpr size_t kMaxInline = 160 << 10;
constexpr size_t kReceiveBuffer = kMaxInline + 64;
constexpr int kSocketBuffer = 1 << 20;

Error system_error(const char* what) { return make_error(ErrorCode::internal, std::string(what) + ": " + std::strerror(errno)); }

}  // namespace

Result<std::pair<std::unique_ptr<Channel>, int>> Channel::pair() {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds) != 0) return system_error("socketpair");
  for (int fd : fds) {
    // Room for many small calls queued while the worker starts; root may pass wmem_max.
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &kSocketBuffer, sizeof kSocketBuffer) != 0)
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kSocketBuffer, sizeof kSocketBuffer);
  }
  // Ours is close-on-exec: no later child of this process inherits the worker's socket.
  ::fcntl(fds[0], F_SETFD, ::fcntl(fds[0], F_GETFD) | FD_CLOEXEC);
  return std::pair{std::make_unique<Channel>(fds[0]), fds[1]};
}

Channel::Channel(int fd) : fd_(fd), buffer_(new uint8_t[kReceiveBuffer]) {}
Channel::~Channel() { close(fd_); }

void Channel::shut_down() { ::shutdown(fd_, SHUT_RDWR); }

void Channel::touch() {
  last_message_ns_.store(std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::steady_clock::now().time_since_epoch()).count(),
                         std::memory_order_relaxed);
}

Status Channel::send_raw(const uint8_t* head, size_t head_size, const uint8_t* body, size_t body_size,
                         const int* fds, int fd_count) {
  // The framing and the message as two pieces: no copy of the message to put a byte before it.
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
  std::lock_guard lock(send_mutex_);
  while (true) {
    if (sendmsg(fd_, &msg, MSG_NOSIGNAL) >= 0) {
      touch();
      return {};
    }
    if (errno == EINTR) continue;
    return make_error(ErrorCode::device_lost, std::string("the GPU worker's socket failed: ") + std::strerror(errno));
  }
}

Status Channel::send(const std::vector<uint8_t>& message, int fd) {
  if (message.size() + 1 <= kMaxInline)
    return send_raw(&kInline, 1, message.data(), message.size(), &fd, fd >= 0 ? 1 : 0);
  auto spill = SharedMemory::create(message.size());
  if (!spill) return spill.take_error();
  std::memcpy((*spill)->data(), message.data(), message.size());
  uint8_t head[1 + sizeof(uint64_t)];
  head[0] = kSpilled;
  const uint64_t size = message.size();
  std::memcpy(head + 1, &size, sizeof size);
  const int fds[2] = {(*spill)->fd(), fd};
  // The memfd is duplicated into the receiver by the kernel; ours closes with `spill`.
  return send_raw(head, sizeof head, nullptr, 0, fds, fd >= 0 ? 2 : 1);
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
  if (n < 0) return n;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    fd_count = static_cast<int>((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    std::memcpy(fds, CMSG_DATA(c), std::min(fd_count, 2) * sizeof(int));
  }
  return n;
}

Result<Channel::Received> Channel::receive(std::vector<uint8_t>& message, int& fd, std::chrono::milliseconds timeout,
                                           std::chrono::microseconds spin) {
  fd = -1;
  int fds[2] = {-1, -1};
  int fd_count = 0;
  // Polling: a non-blocking receive until `spin` has passed since the last message either way
  // (a send from another thread meanwhile extends it).
  ssize_t n = receive_raw(MSG_DONTWAIT, fds, fd_count);
  if (n < 0 && errno == EAGAIN && spin.count() > 0) {
    const int64_t spin_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(spin).count();
    auto now_ns = [] {
      return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count();
    };
    while (n < 0 && errno == EAGAIN && now_ns() < last_message_ns_.load(std::memory_order_relaxed) + spin_ns) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
      n = receive_raw(MSG_DONTWAIT, fds, fd_count);
    }
  }
  if (n < 0 && errno == EAGAIN) {
    pollfd p{fd_, POLLIN, 0};
    while (true) {
      const int r = poll(&p, 1, timeout.count() < 0 ? -1 : static_cast<int>(timeout.count()));
      if (r > 0) break;
      if (r == 0) return Received::timed_out;
      if (errno != EINTR) return system_error("poll on the GPU worker's socket");
    }
    n = receive_raw(0, fds, fd_count);
  }
  if (n < 0) {
    if (errno == ECONNRESET) return Received::closed;
    return system_error("recvmsg on the GPU worker's socket");
  }
  auto close_all = [&] {
    for (int i = 0; i < std::min(fd_count, 2); ++i) close(fds[i]);
  };
  if (n == 0) {
    close_all();
    return Received::closed;
  }
  touch();
  const uint8_t* bytes = buffer_.get();
  if (bytes[0] == kInline) {
    message.assign(bytes + 1, bytes + n);
    fd = fd_count > 0 ? fds[0] : -1;
    return Received::message;
  }
  uint64_t size = 0;
  if (bytes[0] != kSpilled || n != 1 + sizeof size || fd_count < 1) {
    close_all();
    return make_error(ErrorCode::internal, "a malformed message on the GPU worker's socket");
  }
  std::memcpy(&size, bytes + 1, sizeof size);
  auto spill = SharedMemory::map(fds[0], size);
  if (!spill) {
    if (fd_count > 1) close(fds[1]);
    return spill.take_error();
  }
  message.assign((*spill)->data(), (*spill)->data() + size);
  fd = fd_count > 1 ? fds[1] : -1;
  return Received::message;
}

}  // namespace kem::worker
