// A child process KEM starts and owns: the GPU worker, or a kernel's sandboxed first compile.
// Started with only the descriptors it is given, and without a termination signal, so that its
// exit status survives a parent that ignores SIGCHLD (the BEAM); killed and reaped by the
// destructor if it still runs, so a child never outlives the object that started it. The child programs arm PR_SET_PDEATHSIG
// themselves (child_guard.h), so they also die with a parent that crashed.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kem/result.h"

namespace kem::process {

// How a child ended: exited with `code`, or killed by `signal`.
struct ExitStatus {
  int code = -1;
  int signal = 0;
  bool unknown = false;  // reaped by someone else (a parent that waits for every child)
  // "exited with status 3", "killed by signal 8 (SIGFPE)".
  std::string describe() const;
};

struct SpawnOptions {
  std::string program;            // absolute path
  std::vector<std::string> args;  // argv[1...]
  // Descriptors handed to the child: (descriptor here, number in the child). Every other
  // descriptor is closed in the child.
  std::vector<std::pair<int, int>> descriptors;
};

class ChildProcess {
 public:
  static Result<ChildProcess> spawn(const SpawnOptions& options);
  ChildProcess() = default;
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  // SIGKILL and reap, if it still runs.
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0 && !status_; }

  // The exit status once the child ended; nullopt while it runs (waits at most `timeout`).
  std::optional<ExitStatus> wait_for(std::chrono::milliseconds timeout);
  // SIGKILL, then reap.
  ExitStatus kill_and_wait();

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  std::optional<ExitStatus> try_reap();
  pid_t pid_ = -1;
  std::optional<ExitStatus> status_;
};

// The path of KEM's helper program `name` (e.g. "kem-gpu-worker"): the environment variable
// `env_var` when set; else the file next to the binary or shared object this code is linked
// into (the kem CLI, the NIF's kem_nif.so in priv/, a test); else in the build tree's bin/
// folder (a test or benchmark run from where it was built).
Result<std::string> find_helper_program(std::string_view name, const char* env_var);

}  // namespace kem::process
