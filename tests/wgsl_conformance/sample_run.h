// Part 3 of issue 19: a kernel KEM accepts runs with the same results metered and unmetered.
// For a file that fits the kernel contract, one small call each way on lavapipe, outputs
// compared byte for byte. Creating the pipeline makes lavapipe compile (which can explode), so
// this runs only when asked (--run) and, like every verdict, in the child process.
#pragma once

#include <string>

namespace kem::conformance {

// "ran-identical\tENTRY", "ran-different\tENTRY" (a disagreement), "run-refused\tWHY" (the file
// does not fit the contract), "run-failed\tWHY" (both calls failed, or only the unmetered one) or
// "run-over-budget\tWHY" (only the metered call failed, past its loop budget: a loop that never
// ends, which the driver dropped from the unmetered kernel) or "run-failed-metered\tWHY" (only
// the metered call failed otherwise: a disagreement).
std::string compare_metered_run(const std::string& source);

}  // namespace kem::conformance
