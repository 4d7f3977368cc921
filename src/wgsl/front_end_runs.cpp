#include "front_end_runs.h"

#include <atomic>

namespace kem::wgsl {
namespace {
std::atomic<uint64_t> tokenizations{0};
std::atomic<uint64_t> parses{0};
}  // namespace

FrontEndRuns front_end_runs() {
  return {tokenizations.load(std::memory_order_relaxed), parses.load(std::memory_order_relaxed)};
}

void count_tokenization() { tokenizations.fetch_add(1, std::memory_order_relaxed); }
void count_parse() { parses.fetch_add(1, std::memory_order_relaxed); }

}  // namespace kem::wgsl
