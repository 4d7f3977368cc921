// A process's memory and CPU figures from /proc: read by the sandbox child of itself (reported
// with its verdict) and by the parent of a running child (its last sample tells, after the child
// died, whether it died at its memory or CPU limit; a dead process has no figures left to read).
#pragma once

#include <sys/types.h>

#include "sandbox/sandbox_protocol.h"

namespace kem::sandbox {

// Zeros for what cannot be read (a process that is gone, or already a zombie).
Usage read_usage(pid_t pid);

}  // namespace kem::sandbox
