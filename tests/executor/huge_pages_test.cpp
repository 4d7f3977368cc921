// advise_huge_pages: a hint that never changes a byte, and that the kernel takes where THP is
// available (this machine's kind runs THP in "madvise" mode, like the H200 machine).
#include "executor/session/huge_pages.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace kem::executor {
namespace {

std::string thp_mode() {
  std::ifstream file("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  std::getline(file, line);
  const auto open = line.find('['), close = line.find(']');
  return open == std::string::npos || close == std::string::npos ? "" : line.substr(open + 1, close - open - 1);
}

// AnonHugePages (kB) of the mapping of /proc/self/smaps that contains `address`.
long anon_huge_kb(const void* address) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  const auto a = reinterpret_cast<uintptr_t>(address);
  while (std::getline(smaps, line)) {
    uintptr_t begin = 0, end = 0;
    char dash = 0;
    std::istringstream header(line);
    if (header >> std::hex >> begin >> dash >> end && dash == '-') {
      inside = begin <= a && a < end;
      continue;
    }
    if (inside && line.rfind("AnonHugePages:", 0) == 0) return std::stol(line.substr(14));
  }
  return -1;
}

struct Mapping {
  explicit Mapping(size_t n) : bytes(n) {
    void* p = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memory = p == MAP_FAILED ? nullptr : static_cast<uint8_t*>(p);
  }
  ~Mapping() {
    if (memory) munmap(memory, bytes);
  }
  uint8_t* memory;
  size_t bytes;
};

TEST(HugePages, FreshMemoryAdvisedThenTouchedGetsHugePages) {
  const std::string mode = thp_mode();
  ASSERT_TRUE(mode == "madvise" || mode == "always")
      << "transparent huge pages are '" << mode << "' here: this test needs them available";
  Mapping m(64u << 20);
  ASSERT_NE(m.memory, nullptr);
  advise_huge_pages(m.memory + 1, m.bytes - 1);  // unaligned start: the aligned interior is advised
  std::memset(m.memory, 0x5a, m.bytes);          // first touch, as KEM's copy would
  EXPECT_GT(anon_huge_kb(m.memory + (8u << 20)), 0) << "no huge page behind advised, touched memory";
}

TEST(HugePages, AdviceChangesNoByteAndIgnoresWhatItCannotAdvise) {
  Mapping m(16u << 20);
  ASSERT_NE(m.memory, nullptr);
  for (size_t i = 0; i < m.bytes; ++i) m.memory[i] = uint8_t(i * 131 + 7);
  advise_huge_pages(m.memory, m.bytes);
  for (size_t i = 0; i < m.bytes; ++i) ASSERT_EQ(m.memory[i], uint8_t(i * 131 + 7)) << "byte " << i;
  // Small, null, and read-only file-backed memory: nothing happens, nothing fails.
  advise_huge_pages(nullptr, 1u << 30);
  advise_huge_pages(m.memory, kHugePageAdviceBytes - 1);
  char path[] = "/tmp/kem-huge-pages-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  unlink(path);
  const size_t file_bytes = 8u << 20;
  ASSERT_EQ(ftruncate(fd, off_t(file_bytes)), 0);
  ASSERT_EQ(pwrite(fd, "\x2a", 1, 0), 1);
  void* file = mmap(nullptr, file_bytes, PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  ASSERT_NE(file, MAP_FAILED);
  advise_huge_pages(file, file_bytes);
  EXPECT_EQ(static_cast<const uint8_t*>(file)[0], 0x2a);
  munmap(file, file_bytes);
}

}  // namespace
}  // namespace kem::executor
