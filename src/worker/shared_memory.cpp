#include "worker/shared_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace kem::worker {
namespace {

Error system_error(const char* what) { return make_error(ErrorCode::internal, std::string(what) + ": " + std::strerror(errno)); }

Result<uint8_t*> map_shared(int fd, size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return system_error("mmap of shared memory");
  return static_cast<uint8_t*>(p);
}

}  // namespace

Result<std::unique_ptr<SharedMemory>> SharedMemory::create(size_t bytes) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  bytes = (bytes + page - 1) / page * page;
  const int fd = memfd_create("kem-transfer", MFD_CLOEXEC);
  if (fd < 0) return system_error("memfd_create");
  if (ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    Error e = system_error("ftruncate of shared memory");
    close(fd);
    return e;
  }
  auto data = map_shared(fd, bytes);
  if (!data) {
    close(fd);
    return data.take_error();
  }
  return std::unique_ptr<SharedMemory>(new SharedMemory(fd, *data, bytes));
}

Result<std::unique_ptr<SharedMemory>> SharedMemory::map(int fd, size_t bytes) {
  auto data = map_shared(fd, bytes);
  if (!data) {
    close(fd);
    return data.take_error();
  }
  return std::unique_ptr<SharedMemory>(new SharedMemory(fd, *data, bytes));
}

SharedMemory::~SharedMemory() {
  munmap(data_, size_);
  close(fd_);
}

}  // namespace kem::worker
