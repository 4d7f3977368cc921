// One sandbox run: starts kem-kernel-sandbox, waits for it to be ready, hands it the kernel,
// waits for its verdict within the wall limit, and tells what happened. The child is always
// reaped before finish_in_sandbox (or run_in_sandbox) returns, killed first when it overran.
// Starting and finishing are apart so that a process can be started ahead of its kernel (the
// spare, kernel_admission.cpp): it starts Dawn while nobody waits for it.
#pragma once

#include <unistd.h>

#include <chrono>
#include <string>
#include <utility>

#include "kem/kernel_admission.h"
#include "process/child_process.h"
#include "sandbox/sandbox_protocol.h"

namespace kem::sandbox {

struct SandboxOutcome {
  // OK: admitted. An error: the refusal (compile_error, or the compile's own error), or a
  // failure that is not the kernel's (internal, unavailable).
  Status status;
  bool about_the_kernel = false;  // a verdict to remember: the compile ran, or the kernel killed it
  bool started = false;           // the child got as far as "ready" (a spare that died before: false)
  Usage usage;                    // the child's own figures (a verdict), else the last sample of it
  std::chrono::milliseconds wall{0};  // from the request handed over to the end
  bool over_wall_time = false;        // refused by the wall-time limit (remembered for a while)
};

// A descriptor closed by its owner.
class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// A sandbox process started (it is starting Dawn, or waiting for its kernel) with the parent's
// end of its channel. Destroying it kills and reaps the process.
struct StartedSandbox {
  process::ChildProcess child;
  UniqueFd channel;
};

Result<StartedSandbox> start_sandbox(const std::string& program, const KernelAdmissionOptions& options);
SandboxOutcome finish_in_sandbox(StartedSandbox sandbox, const KernelAdmissionOptions& options,
                                 const KernelRequest& request);
SandboxOutcome run_in_sandbox(const std::string& program, const KernelAdmissionOptions& options,
                              const KernelRequest& request);

}  // namespace kem::sandbox
