#include "executor/session/huge_pages.h"

#include <sys/mman.h>

#include <cstdint>

namespace kem::executor {

void advise_huge_pages(void* memory, size_t bytes) {
#ifdef MADV_HUGEPAGE
  if (memory == nullptr || bytes < kHugePageAdviceBytes) return;
  constexpr uintptr_t kHuge = uintptr_t(2) << 20;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(memory) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(memory) + bytes) & ~(kHuge - 1);
  // Errors (EINVAL for memory that cannot take the advice) mean only that the hint is not taken.
  if (end > begin) (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
  (void)memory, (void)bytes;
#endif
}

}  // namespace kem::executor
