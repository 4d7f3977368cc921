// The child side of the conformance run: one device set up like KEM's, and the verdicts on each
// file. Runs in a child process, because some corpus files crash Dawn, Tint or lavapipe in-process.
#pragma once

#include <string>
#include <vector>

namespace kem::conformance {

// Reads files[start..] in order and writes, for each, to `fd`:
//   "~start\n"  before reading it
//   "~front\n"  once KEM's front end has run (a crash before it is KEM's)
//   "~tint\n"   once Tint has compiled the file as written (a crash after it: the metered text)
//   "~run\n"    with --run, before the pipelines are created (a crash after it: Tint's back end or
//               lavapipe, whose compile some corpus files make crash or grow without bound)
//   "=CLASS\tDETAIL\n" the verdict (CLASS: see classify.h's names)
// Returns the process exit status (0 when every file got a verdict).
// With `run`, files both accept are also run metered and unmetered (sample_run.h) and get
// that verdict instead of agree-accept.
int run_worker(const std::vector<std::string>& files, size_t start, int fd, bool run);

}  // namespace kem::conformance
