#include "process/child_process.h"

#include <dlfcn.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

extern char** environ;

namespace kem::process {
namespace {

ExitStatus from_wait_status(int status) {
  ExitStatus s;
  if (WIFEXITED(status)) s.code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) s.signal = WTERMSIG(status);
  return s;
}

bool executable(const std::filesystem::path& path) {
  return !path.empty() && access(path.c_str(), X_OK) == 0 && std::filesystem::is_regular_file(path);
}

}  // namespace

std::string ExitStatus::describe() const {
  if (unknown) return "ended (its status was collected elsewhere)";
  if (signal) {
    const char* name = sigabbrev_np(signal);
    return "killed by signal " + std::to_string(signal) + (name ? std::string(" (SIG") + name + ")" : "");
  }
  return "exited with status " + std::to_string(code);
}

Result<ChildProcess> ChildProcess::spawn(const SpawnOptions& options) {
  // Everything the child needs is prepared here: between clone and execve it may only make
  // system calls (it is a copy of a multithreaded process; no allocation, no locks).
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(options.program.c_str()));
  for (const std::string& a : options.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  int highest = 2;
  for (const auto& d : options.descriptors) highest = std::max(highest, d.second);
  const int staging = std::max(highest + 1, 512);  // above every target: no source is overwritten

  // clone() with no termination signal, instead of fork or posix_spawn: a parent that ignores
  // SIGCHLD (the BEAM does) has its SIGCHLD children reaped by the kernel, and their exit status
  // (the signal that killed a worker) lost. A child without a termination signal is never
  // reaped automatically; waitpid(__WALL) collects it.
  const long pid = syscall(SYS_clone, 0L, nullptr, nullptr, nullptr, 0L);
  if (pid < 0) return make_error(ErrorCode::internal, std::string("cannot start ") + options.program + ": " + std::strerror(errno));
  if (pid == 0) {
    // In the child: descriptors into place, every other one closed, signals back to defaults.
    for (size_t i = 0; i < options.descriptors.size(); ++i)
      if (syscall(SYS_dup2, options.descriptors[i].first, staging + static_cast<int>(i)) < 0) syscall(SYS_exit_group, 126);
    for (size_t i = 0; i < options.descriptors.size(); ++i)
      syscall(SYS_dup2, staging + static_cast<int>(i), options.descriptors[i].second);
    syscall(SYS_close_range, highest + 1, ~0u, 0);
    struct kernel_sigaction {
      void* handler;
      unsigned long flags;
      void* restorer;
      unsigned long mask;
    } dfl{};  // SIG_DFL, no flags, empty mask
    for (int sig = 1; sig < 65; ++sig)
      if (sig != SIGKILL && sig != SIGSTOP) syscall(SYS_rt_sigaction, sig, &dfl, nullptr, 8);
    unsigned long empty = 0;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &empty, nullptr, 8);
    syscall(SYS_execve, argv[0], argv.data(), environ);
    syscall(SYS_exit_group, 127);
  }
  return ChildProcess(static_cast<pid_t>(pid));
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), status_(std::move(other.status_)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    if (running()) kill_and_wait();
    pid_ = std::exchange(other.pid_, -1);
    status_ = std::move(other.status_);
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  if (running()) kill_and_wait();
}

std::optional<ExitStatus> ChildProcess::try_reap() {
  if (status_ || pid_ <= 0) return status_;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG | __WALL);
  if (r == pid_) status_ = from_wait_status(status);
  else if (r < 0 && errno == ECHILD) status_ = ExitStatus{.unknown = true};
  return status_;
}

std::optional<ExitStatus> ChildProcess::wait_for(std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::microseconds(100);
  while (true) {
    if (auto s = try_reap()) return s;
    if (std::chrono::steady_clock::now() >= until) return std::nullopt;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(10000));
  }
}

ExitStatus ChildProcess::kill_and_wait() {
  if (auto s = try_reap()) return *s;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (true) {
    const pid_t r = waitpid(pid_, &status, __WALL);
    if (r == pid_) return *(status_ = from_wait_status(status));
    if (r < 0 && errno == EINTR) continue;
    return *(status_ = ExitStatus{.unknown = true});
  }
}

Result<std::string> find_helper_program(std::string_view name, const char* env_var) {
  namespace fs = std::filesystem;
  if (const char* set = std::getenv(env_var); set && *set) {
    if (executable(set)) return std::string(set);
    return make_error(ErrorCode::internal, std::string(env_var) + "=" + set + " is not an executable file");
  }
  std::vector<fs::path> tried;
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&find_helper_program), &info) && info.dli_fname) {
    std::error_code ec;
    fs::path here = fs::canonical(fs::path(info.dli_fname), ec);
    if (ec) here = fs::path(info.dli_fname);
    tried.push_back(here.parent_path() / name);
  }
#ifdef KEM_HELPER_BUILD_DIR
  tried.push_back(fs::path(KEM_HELPER_BUILD_DIR) / name);
#endif
  std::string where;
  for (const fs::path& p : tried) {
    if (executable(p)) return p.string();
    where += (where.empty() ? "" : ", ") + p.string();
  }
  return make_error(ErrorCode::internal, "KEM's helper program " + std::string(name) + " was not found (looked at " +
                                             where + "; set " + env_var + ")");
}

}  // namespace kem::process
