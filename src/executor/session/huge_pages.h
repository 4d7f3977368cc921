// Large outputs land in memory the caller has just allocated (a NIF's new binary, run()'s
// vector), whose pages are faulted in by KEM's copy: one fault and one zeroed 4 KiB page at a
// time, which on the H200 machine made a 1 GiB call into fresh memory twice as slow as into
// reused memory. Asking for transparent huge pages first turns 262,144 faults into 512.
#pragma once

#include <cstddef>

namespace kem::executor {

// Destinations at least this large are advised.
constexpr size_t kHugePageAdviceBytes = 4u << 20;

// madvise(MADV_HUGEPAGE) over the 2 MiB-aligned interior of [memory, memory + bytes) when it
// is at least kHugePageAdviceBytes: a hint (memory that is not an anonymous private mapping,
// or THP set to "never", is left as it is), never an error, and no byte changes.
void advise_huge_pages(void* memory, size_t bytes);

}  // namespace kem::executor
