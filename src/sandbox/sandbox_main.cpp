// kem-kernel-sandbox: compiles one kernel in a process of its own, so that a driver's compiler
// that crashes or runs away takes only this process down. Started by KernelAdmission
// (sandbox_run.cpp) with its arguments (sandbox_protocol.h) and a socket on descriptor 3: says
// "ready" once Dawn's device is up, reads one request, compiles it exactly as a call would
// (Executor::compile), writes the verdict and exits.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "kem/executor.h"
#include "process/child_guard.h"
#include "process/fatal_signals.h"
#include "sandbox/process_usage.h"
#include "sandbox/sandbox_protocol.h"

namespace {

using namespace kem;
using namespace kem::sandbox;

bool write_all(std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::send(kChannelFd, text.data(), text.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    text.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// The parent's request: everything until it shuts its side down.
std::optional<std::string> read_request() {
  std::string text;
  char buffer[1 << 16];
  while (true) {
    const ssize_t n = ::recv(kChannelFd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) return text;
    text.append(buffer, static_cast<size_t>(n));
  }
}

int run(int argc, char** argv) {
  auto args = parse_args(argc, argv);
  if (!args) {
    std::fprintf(stderr, "%s\n", args.error().message.c_str());
    return kExitUsage;
  }
  // First, before anything can spin: the CPU limit bounds Dawn's start as well.
  process::die_with_parent(static_cast<pid_t>(args->parent_pid));
  if (Status limited = process::limit_resources(0, args->cpu_seconds); !limited) {
    write_all(encode_start_error(limited.error()));
    return kExitNoLimits;
  }
  // If the driver's compiler kills us, the parent hears which signal did (the BEAM, ignoring
  // SIGCHLD, leaves it no exit status to read).
  process::report_fatal_signals(kChannelFd, kSignalPrefix, kSignalSuffix);
  ExecutorOptions options;
  options.adapter = args->adapter;
  options.metering = args->metering;
  // Nothing runs here: no admission estimates, one pipeline, no batching threads to wait for.
  options.admission = false;
  options.pipeline_cache_capacity = 1;
  auto executor = Executor::create(options);
  if (!executor) {
    write_all(encode_start_error(executor.error()));
    return kExitNoDevice;
  }
  // The memory limit is the compile's own: what Dawn and the driver reserved at start differs by
  // driver (about 800 MiB of address space on lavapipe) and is the same for every kernel, so the
  // limit is that much plus the allowance, set now, before any of the kernel is read.
  const uint64_t start_size = read_usage(getpid()).vm_size;
  if (args->address_space_bytes && start_size == 0) {
    // Without its start's size a limit would be a guess, and a wrong one would refuse kernels.
    write_all(encode_start_error(make_error(ErrorCode::internal, "cannot read VmSize from /proc/self/status")));
    return kExitNoLimits;
  }
  const uint64_t limit = args->address_space_bytes ? start_size + args->address_space_bytes : 0;
  if (limit) {
    if (Status limited = process::limit_resources(limit, 0); !limited) {
      write_all(encode_start_error(limited.error()));
      return kExitNoLimits;
    }
  }
  if (!write_all(encode_ready(limit))) return kExitNoChannel;
  auto text = read_request();
  if (!text) return kExitNoRequest;
  auto job = decode_job(*text);
  if (!job) {
    write_all(encode_verdict(job.error(), read_usage(getpid())));
    return kExitBadRequest;
  }
  const Status compiled = (*executor)->compile(job->request());
  write_all(encode_verdict(compiled, read_usage(getpid())));
  // The verdict is out: leave at once, without the executor's destructor (tearing Dawn's device
  // and the driver's threads down only costs time here, and the parent waits for the exit).
  ::_exit(0);
}

}  // namespace

int main(int argc, char** argv) { ::_exit(run(argc, argv)); }
