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

Channel::Channel(int fd) : fd_(fd) {}
Channel::~Channel() { close(fd_); }

void Channel::shut_down() { ::shutdown(fd_, SHUT_RDWR); }

Status Channel::send_raw(const uint8_t* bytes, size_t size, const int* fds, int fd_count) {
  iovec iov{const_cast<uint8_t*>(bytes), size};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
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
    if (sendmsg(fd_, &msg, MSG_NOSIGNAL) >= 0) return {};
    if (errno == EINTR) continue;
    return make_error(ErrorCode::device_lost, std::string("the GPU worker's socket failed: ") + std::strerror(errno));
  }
}

Status Channel::send(const std::vector<uint8_t>& message, int fd) {
  if (message.size() + 1 <= kMaxInline) {
    // One byte of framing in front; the copy is of a small message.
    std::vector<uint8_t> framed;
    framed.reserve(message.size() + 1);
    framed.push_back(kInline);
    framed.insert(framed.end(), message.begin(), message.end());
    return send_raw(framed.data(), framed.size(), &fd, fd >= 0 ? 1 : 0);
  }
  auto spill = SharedMemory::create(message.size());
  if (!spill) return spill.take_error();
  std::memcpy((*spill)->data(), message.data(), message.size());
  uint8_t head[1 + sizeof(uint64_t)];
  head[0] = kSpilled;
  const uint64_t size = message.size();
  std::memcpy(head + 1, &size, sizeof size);
  const int fds[2] = {(*spill)->fd(), fd};
  // The memfd is duplicated into the receiver by the kernel; ours closes with `spill`.
  return send_raw(head, sizeof head, fds, fd >= 0 ? 2 : 1);
}

Result<Channel::Received> Channel::receive(std::vector<uint8_t>& message, int& fd, std::chrono::milliseconds timeout,
                                           std::chrono::microseconds spin) {
  fd = -1;
  pollfd p{fd_, POLLIN, 0};
  if (spin.count() > 0) {
    const auto until = std::chrono::steady_clock::now() + spin;
    while (poll(&p, 1, 0) == 0 && std::chrono::steady_clock::now() < until) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
  }
  while (true) {
    const int r = poll(&p, 1, timeout.count() < 0 ? -1 : static_cast<int>(timeout.count()));
    if (r > 0) break;
    if (r == 0) return Received::timed_out;
    if (errno != EINTR) return system_error("poll on the GPU worker's socket");
  }
  message.resize(kReceiveBuffer);
  iovec iov{message.data(), message.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(2 * sizeof(int))];
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do n = recvmsg(fd_, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == ECONNRESET) return Received::closed;
    return system_error("recvmsg on the GPU worker's socket");
  }
  int fds[2] = {-1, -1};
  int fd_count = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    fd_count = static_cast<int>((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    std::memcpy(fds, CMSG_DATA(c), std::min(fd_count, 2) * sizeof(int));
  }
  auto close_all = [&] {
    for (int i = 0; i < std::min(fd_count, 2); ++i) close(fds[i]);
  };
  if (n == 0) {
    close_all();
    return Received::closed;
  }
  if (message[0] == kInline && n >= 1) {
    message.erase(message.begin());
    message.resize(static_cast<size_t>(n) - 1);
    fd = fd_count > 0 ? fds[0] : -1;
    return Received::message;
  }
  uint64_t size = 0;
  if (message[0] != kSpilled || n != 1 + sizeof size || fd_count < 1) {
    close_all();
    return make_error(ErrorCode::internal, "a malformed message on the GPU worker's socket");
  }
  std::memcpy(&size, message.data() + 1, sizeof size);
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
