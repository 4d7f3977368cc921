// How many times this process has tokenized and parsed WGSL. A metered cold compile must read the
// user's source exactly once (issue 13: it used to tokenize it four times and parse it three);
// the tests read these counters to keep it so. Counting is one relaxed atomic increment per
// whole-source pass, nothing per token.
#pragma once

#include <cstdint>

namespace kem::wgsl {

struct FrontEndRuns {
  uint64_t tokenizations = 0;  // calls of tokenize()
  uint64_t parses = 0;         // calls of parse_tokens() (parse_wgsl included)
};

// The totals so far, across all threads. Tests compare two readings around the work they check.
FrontEndRuns front_end_runs();

// Called by the lexer and the parser only.
void count_tokenization();
void count_parse();

}  // namespace kem::wgsl
