// What a KEM helper program does first: die with its parent (PR_SET_PDEATHSIG, checked against
// the parent that started it, which may already be gone), and apply its resource limits.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "kem/result.h"

namespace kem::process {

// Exits at once (status 70) when the process that spawned us, `expected_parent`, is gone.
void die_with_parent(pid_t expected_parent);

// RLIMIT_AS and RLIMIT_CPU; 0 leaves a limit as it is. RLIMIT_CORE is always set to 0: a
// crashing kernel leaves no core files behind.
Status limit_resources(uint64_t address_space_bytes, uint64_t cpu_seconds);

}  // namespace kem::process
