#include "source_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "utf8.h"

namespace kem::store {
namespace {

// Closes on every path out of read_file_bounded.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

Result<Bytes> read_file_bounded(const std::string& path, std::size_t max_bytes) {
  Fd file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) {
    const ErrorCode code = errno == ENOENT ? ErrorCode::not_found : ErrorCode::io_error;
    return make_error(code, "cannot open " + path + ": " + std::strerror(errno));
  }
  struct stat info {};
  if (::fstat(file.fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    return make_error(ErrorCode::io_error, path + " is not a regular file");
  }
  if (static_cast<uint64_t>(info.st_size) > max_bytes) {
    return make_error(ErrorCode::limit_exceeded, path + " is " + std::to_string(info.st_size) +
                                                     " bytes, more than the limit of " + std::to_string(max_bytes));
  }
  Bytes bytes;
  char buffer[65536];
  for (;;) {
    const ssize_t got = ::read(file.fd, buffer, sizeof buffer);
    if (got < 0) {
      if (errno == EINTR) continue;
      return make_error(ErrorCode::io_error, "cannot read " + path + ": " + std::strerror(errno));
    }
    if (got == 0) break;
    bytes.append(buffer, static_cast<std::size_t>(got));
    // The file may grow after fstat; the bound holds regardless.
    if (bytes.size() > max_bytes) {
      return make_error(ErrorCode::limit_exceeded, path + " is larger than the limit of " + std::to_string(max_bytes));
    }
  }
  return bytes;
}

Status check_source(BytesView source, std::size_t max_bytes, const std::string& what) {
  if (source.size() > max_bytes) {
    return make_error(ErrorCode::limit_exceeded, what + " is " + std::to_string(source.size()) +
                                                     " bytes, more than the limit of " + std::to_string(max_bytes));
  }
  // Tint reads a comment's bytes without decoding them, so only code must be UTF-8.
  if (auto bad = first_invalid_utf8_outside_wgsl_comments(source)) {
    return make_error(ErrorCode::invalid_argument,
                      what + " is not valid UTF-8 (first bad byte at offset " + std::to_string(*bad) + ")");
  }
  return {};
}

}  // namespace kem::store
