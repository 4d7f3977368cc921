// One sandbox run: starts kem-kernel-sandbox, waits for it to be ready, hands it the kernel,
// waits for its verdict within the wall limit, and tells what happened. The child is always
// reaped before this returns (killed first when it overran).
#pragma once

#include <chrono>
#include <string>

#include "kem/kernel_admission.h"
#include "sandbox/sandbox_protocol.h"

namespace kem::sandbox {

struct SandboxOutcome {
  // OK: admitted. An error: the refusal (compile_error, or the compile's own error), or a
  // failure that is not the kernel's (internal, unavailable).
  Status status;
  bool about_the_kernel = false;  // a verdict to remember: the compile ran, or the kernel killed it
  Usage usage;                    // the child's own figures (a verdict), else the last sample of it
  std::chrono::milliseconds wall{0};  // from the request handed over to the end
};

SandboxOutcome run_in_sandbox(const std::string& program, const KernelAdmissionOptions& options,
                              const KernelRequest& request);

}  // namespace kem::sandbox
