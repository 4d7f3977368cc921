#include "sandbox/sandbox_run.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "process/child_process.h"
#include "sandbox/process_usage.h"

namespace kem::sandbox {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string duration_text(milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

Error refusal(const std::string& how) {
  return make_error(ErrorCode::compile_error, "the kernel was refused: its first compile, in a sandbox, " + how);
}

Error start_failure(const std::string& why) {
  Error e = make_error(ErrorCode::unavailable, "the kernel sandbox could not start: " + why);
  e.retry_after = std::chrono::seconds(1);
  return e;
}

// The parent's end of the channel, with the child it talks to: every wait samples the child's
// memory and CPU figures, so that after it died the last sample tells which limit it was at.
class Channel {
 public:
  // `resident_limit`: the resident memory the child may reach (0: none). RLIMIT_AS alone does
  // not hold everywhere: an ASan build's allocator reserves its own address space, and took a
  // call-tree compile to 21 GB resident before it gave up. Each sample checks it.
  Channel(int fd, process::ChildProcess& child, uint64_t resident_limit = 0)
      : fd_(fd), child_(child), resident_limit_(resident_limit) {}

  // The next line from the child, or nullopt when it closed the channel (or `until` passed:
  // timed_out() then says so).
  std::optional<std::string> read_line(Clock::time_point until) {
    while (true) {
      if (const size_t end = buffer_.find('\n'); end != std::string::npos) {
        std::string line = buffer_.substr(0, end);
        buffer_.erase(0, end + 1);
        return line;
      }
      if (closed_ || !wait(POLLIN, until)) return std::nullopt;
      char chunk[1 << 16];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n > 0) buffer_.append(chunk, static_cast<size_t>(n));
      else if (n == 0 || (errno != EINTR && errno != EAGAIN)) closed_ = true;
    }
  }

  // All of `text`, then end of input for the child. False when the child went away (or `until`).
  bool write_all(std::string_view text, Clock::time_point until) {
    while (!text.empty()) {
      if (!wait(POLLOUT, until)) return false;
      const ssize_t n = ::send(fd_, text.data(), text.size(), MSG_NOSIGNAL);
      if (n > 0) text.remove_prefix(static_cast<size_t>(n));
      else if (n < 0 && errno != EINTR && errno != EAGAIN) return false;
    }
    ::shutdown(fd_, SHUT_WR);
    return true;
  }

  bool timed_out() const { return timed_out_; }
  bool over_memory() const { return over_memory_; }
  const Usage& last_sample() const { return sample_; }

 private:
  // Ready for `events` before `until`; samples the child every few milliseconds meanwhile.
  bool wait(short events, Clock::time_point until) {
    while (true) {
      sample();
      const auto now = Clock::now();
      if (now >= until) {
        timed_out_ = true;
        return false;
      }
      const auto left = std::chrono::duration_cast<milliseconds>(until - now).count() + 1;
      pollfd p{fd_, events, 0};
      const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, kSampleMs)));
      if (r > 0) return true;  // ready, or hung up / in error: the read or write says which
      if (r < 0 && errno != EINTR) return false;
    }
  }
  void sample() {
    const Usage u = read_usage(child_.pid());
    if (u.vm_peak) sample_ = u;  // zeros: the child is gone (or a zombie); keep what it had
    if (resident_limit_ && u.vm_hwm > resident_limit_ && !over_memory_) {
      over_memory_ = true;
      child_.kill_and_wait();  // its end of the channel closes: the read sees it
    }
  }

  static constexpr long long kSampleMs = 5;
  int fd_;
  process::ChildProcess& child_;
  std::string buffer_;
  bool closed_ = false;
  bool timed_out_ = false;
  const uint64_t resident_limit_;
  bool over_memory_ = false;
  Usage sample_;
};

// How a child that reached no verdict ended, in words for the refusal.
std::string memory_limit_text(const KernelAdmissionOptions& o) {
  return "passed its memory limit of " + std::to_string(o.address_space_bytes >> 20) + " MiB";
}

// `limit`: the child's RLIMIT_AS (its start's address space plus the allowance).
bool near_memory_limit(const Usage& u, uint64_t limit, const KernelAdmissionOptions& o) {
  const uint64_t margin = std::max<uint64_t>(o.address_space_bytes / 16, 128ull << 20);
  return limit && u.vm_peak + margin >= limit;
}

std::string how_it_ended(const process::ExitStatus& status, const Usage& last, uint64_t limit,
                         const KernelAdmissionOptions& o) {
  // A compile at RLIMIT_AS dies of the allocation that failed: an abort (LLVM's "out of memory"),
  // a segfault on a null pointer, or exit(1) from a fatal-error handler. Its last sample shows
  // it within reach of the limit; an honest compile runs far below it.
  if (near_memory_limit(last, limit, o)) return memory_limit_text(o) + " (" + status.describe() + ")";
  // At RLIMIT_CPU the kernel sends SIGKILL (limit_resources sets soft = hard). The last sample
  // may be a few milliseconds old.
  if (o.cpu_seconds && (status.signal == SIGKILL || status.signal == SIGXCPU) &&
      last.cpu_ms + 1000 >= o.cpu_seconds * 1000)
    return "passed its CPU time limit of " + std::to_string(o.cpu_seconds) + " s";
  if (status.signal) return "was " + status.describe();
  return status.describe() + " before its verdict";
}

}  // namespace

Result<StartedSandbox> start_sandbox(const std::string& program, const KernelAdmissionOptions& options) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
    return make_error(ErrorCode::internal, std::string("socketpair: ") + std::strerror(errno));
  UniqueFd ours(pair[0]);
  // What the child gets is moved above the numbers it gets them at (0 and kChannelFd), so that
  // neither dup2 in the child overwrites the other's source (a parent with stdin closed would
  // otherwise hand out descriptor 0 or 3 here). The low copies are closed at once: a copy of
  // the child's end left open here would hide the child's death (no end of file).
  auto moved_up = [](int low) {
    const int high = low >= 0 ? ::fcntl(low, F_DUPFD_CLOEXEC, 10) : -1;
    if (low >= 0) ::close(low);
    return high;
  };
  UniqueFd theirs(moved_up(pair[1]));
  UniqueFd null_input(moved_up(::open("/dev/null", O_RDONLY | O_CLOEXEC)));
  if (theirs.get() < 0)
    return make_error(ErrorCode::internal, std::string("fcntl(F_DUPFD_CLOEXEC): ") + std::strerror(errno));
  ::fcntl(ours.get(), F_SETFL, ::fcntl(ours.get(), F_GETFL) | O_NONBLOCK);

  ChildArguments args;
  args.parent_pid = ::getpid();
  args.address_space_bytes = options.address_space_bytes;
  args.cpu_seconds = options.cpu_seconds;
  args.adapter = options.adapter;
  args.metering = options.executor.metering;
  process::SpawnOptions spawn;
  spawn.program = program;
  spawn.args = to_args(args);
  spawn.descriptors = {{theirs.get(), kChannelFd}};
  // Its standard input is nothing of ours; stdout and stderr are shared (driver warnings).
  if (null_input.get() >= 0) spawn.descriptors.push_back({null_input.get(), 0});
  auto started = process::ChildProcess::spawn(spawn);
  if (!started) return started.take_error();
  // `theirs` closes here: the child's end is the child's alone now.
  return StartedSandbox{std::move(started).value(), std::move(ours)};
}

SandboxOutcome run_in_sandbox(const std::string& program, const KernelAdmissionOptions& options,
                              const KernelRequest& request) {
  auto started = start_sandbox(program, options);
  if (!started) {
    SandboxOutcome out;
    out.status = started.take_error();
    return out;
  }
  return finish_in_sandbox(std::move(started).value(), options, request);
}

SandboxOutcome finish_in_sandbox(StartedSandbox sandbox, const KernelAdmissionOptions& options,
                                 const KernelRequest& request) {
  SandboxOutcome out;
  process::ChildProcess& child = sandbox.child;
  // Resident memory: the compile's allowance, its start included (Dawn and lavapipe hold under
  // 100 MiB of it then).
  Channel channel(sandbox.channel.get(), child, options.address_space_bytes);

  // 1. Its start: Dawn, the adapter, the device. Nothing of the kernel is involved yet.
  auto hello = channel.read_line(Clock::now() + options.start_timeout);
  std::optional<Result<ChildMessage>> first;
  if (hello) first = decode_message(*hello);
  if (!first || !*first || (*first)->kind != ChildMessage::Kind::ready) {
    std::string why;
    if (first && *first && (*first)->kind == ChildMessage::Kind::start_error) why = (*first)->verdict.status.error().message;
    else if (first && !*first) why = first->error().message;
    else if (channel.timed_out()) why = "it was not ready after " + duration_text(options.start_timeout);
    const process::ExitStatus ended = child.kill_and_wait();
    if (why.empty()) why = "it " + ended.describe() + " before it was ready";
    out.status = start_failure(why);
    return out;
  }

  out.started = true;
  const uint64_t limit = (*first)->address_space_limit;
  // 2. The kernel: the wall limit runs from here.
  const auto handed = Clock::now();
  const auto until = handed + options.timeout;
  std::optional<std::string> line;
  if (channel.write_all(encode_job(request), until)) line = channel.read_line(until);
  out.wall = std::chrono::duration_cast<milliseconds>(Clock::now() - handed);
  if (line) {
    auto message = decode_message(*line);
    if (message && message->kind == ChildMessage::Kind::signal) {
      // Its last words: it is dying of that signal.
      std::optional<process::ExitStatus> ended = child.wait_for(std::chrono::seconds(5));
      if (!ended) ended = child.kill_and_wait();
      if (ended->unknown) ended = process::ExitStatus{.signal = message->signal};
      out.usage = channel.last_sample();
      out.status = refusal(how_it_ended(*ended, out.usage, limit, options));
      out.about_the_kernel = true;
      return out;
    }
    // The verdict is in; the child leaves right after it (and is killed if it lingers).
    if (!child.wait_for(std::chrono::seconds(2))) child.kill_and_wait();
    if (!message || message->kind != ChildMessage::Kind::verdict) {
      out.status = message ? make_error(ErrorCode::internal, "the kernel sandbox answered out of turn")
                           : message.take_error();
      return out;
    }
    out.usage = message->verdict.usage;
    out.status = message->verdict.status;
    // The compile's own errors are the kernel's (the same every time, so remembered); a failure
    // of the sandbox's device or of KEM itself is not.
    const ErrorCode code = out.status ? ErrorCode::internal : out.status.error().code;
    out.about_the_kernel = out.status.ok() || code == ErrorCode::compile_error ||
                           code == ErrorCode::invalid_argument || code == ErrorCode::limit_exceeded;
    if (!out.about_the_kernel) {
      // An allocation the executor caught (std::bad_alloc) at the memory limit is the kernel's.
      if (near_memory_limit(out.usage, limit, options)) {
        out.status = refusal(memory_limit_text(options) + " (" + out.status.error().message + ")");
        out.about_the_kernel = true;
      }
    }
    return out;
  }
  // 3. No verdict: the child overran the wall limit or its resident memory, or the kernel
  // killed it.
  out.usage = channel.last_sample();
  if (channel.over_memory()) {
    child.kill_and_wait();
    out.status = refusal(memory_limit_text(options) + " (its resident memory, which the service watches)");
    out.about_the_kernel = true;
    return out;
  }
  if (channel.timed_out() && child.running() && !child.wait_for(milliseconds(0))) {
    child.kill_and_wait();
    out.status = refusal("took longer than " + duration_text(options.timeout));
    out.about_the_kernel = true;
    out.over_wall_time = true;
    return out;
  }
  // It closed the channel: it is ending (or ended). Give it a moment to be reaped.
  std::optional<process::ExitStatus> ended = child.wait_for(std::chrono::seconds(5));
  if (!ended) ended = child.kill_and_wait();
  out.wall = std::chrono::duration_cast<milliseconds>(Clock::now() - handed);
  if (!ended->signal && (ended->code == kExitNoRequest || ended->code == kExitNoChannel)) {
    // The channel broke before the kernel got to the compiler: not the kernel's doing.
    out.status = make_error(ErrorCode::internal, "the kernel sandbox lost its channel (" + ended->describe() + ")");
    return out;
  }
  out.status = refusal(how_it_ended(*ended, out.usage, limit, options));
  out.about_the_kernel = true;
  return out;
}

}  // namespace kem::sandbox
