#include "worker/worker_link.h"

#include <signal.h>
#include <unistd.h>

#include <vector>

#include "process/fatal_signals.h"
#include "worker/protocol.h"

namespace kem::worker {
namespace {

// A handler ends in a caller's completion: whatever it throws stays on this side of the reader
// thread, which must keep reading (an exception escaping a thread would end the whole process,
// the BEAM with it).
void run_handler(WorkerLink::Handler& handler, Result<Reader*> reply) {
  try {
    handler(std::move(reply));
  } catch (...) {
  }
}

}  // namespace

Result<std::unique_ptr<WorkerLink>> WorkerLink::start(const std::string& program, const ExecutorPoolOptions& devices,
                                                      std::chrono::milliseconds grace, Events events) {
  auto pair = Channel::pair();
  if (!pair) return pair.take_error();
  auto [channel, child_end] = std::move(pair).value();
  auto child = process::ChildProcess::spawn({program, {std::to_string(getpid())}, {{child_end, 3}}});
  close(child_end);
  if (!child) return child.take_error();
  std::unique_ptr<WorkerLink> link(new WorkerLink());
  link->pid_ = child->pid();
  link->child_ = std::move(child).value();
  link->channel_ = std::move(channel);
  link->grace_ = grace;
  link->events_ = std::move(events);
  Writer hello = message(Kind::hello);
  put(hello, devices);
  if (Status sent = link->channel_->send(hello.data()); !sent) return sent.take_error();
  link->reader_ = std::thread([l = link.get()] { l->read_loop(); });
  return link;
}

WorkerLink::~WorkerLink() {
  kill("the service closed");
  if (reader_.joinable()) reader_.join();
}

Result<size_t> WorkerLink::wait_ready(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!ready_changed_.wait_for(lock, timeout, [&] { return ready_.has_value(); }))
    return make_error(ErrorCode::unavailable, "the GPU worker did not create its devices within " +
                                                  std::to_string(timeout.count()) + " ms");
  return *ready_;
}

bool WorkerLink::alive() const {
  std::lock_guard lock(mutex_);
  return alive_;
}

bool WorkerLink::ever_ready() const {
  std::lock_guard lock(mutex_);
  return ready_ && ready_->ok();
}

std::vector<uint64_t> WorkerLink::lost_kernels() const {
  std::lock_guard lock(mutex_);
  return lost_kernels_;
}

size_t WorkerLink::lost() const {
  std::lock_guard lock(mutex_);
  return lost_;
}

std::string WorkerLink::ended_how() const {
  std::lock_guard lock(mutex_);
  return ended_how_;
}

std::optional<Error> WorkerLink::request(uint64_t id, Writer& message, Handler& handler, Clock::time_point deadline,
                                         int fd, uint64_t kernel) {
  {
    std::lock_guard lock(mutex_);
    if (!alive_ || draining_)
      return make_error(ErrorCode::device_lost, "the GPU worker process ended before the call was sent");
    waiting_.emplace(id, Waiting{std::move(handler), deadline, kernel});
  }
  Status sent = channel_->send(message.data(), fd);
  if (sent) return std::nullopt;
  std::lock_guard lock(mutex_);
  auto it = waiting_.find(id);
  // Not there: the reader answered it already (the process ended meanwhile).
  if (it == waiting_.end()) return std::nullopt;
  handler = std::move(it->second.handler);
  waiting_.erase(it);
  return sent.take_error();
}

Status WorkerLink::notify(Writer& message, int fd) { return channel_->send(message.data(), fd); }

void WorkerLink::drain() {
  std::lock_guard lock(mutex_);
  draining_ = true;
  if (waiting_.empty()) channel_->shut_down();
}

void WorkerLink::kill(std::string why) {
  {
    std::lock_guard lock(mutex_);
    if (!alive_) return;
    if (killed_because_.empty()) killed_because_ = std::move(why);
  }
  channel_->shut_down();
}

void WorkerLink::replace() {
  replaced_ = true;
  kill("was replaced: one of its devices had to be abandoned with work still running");
}

bool WorkerLink::wait_ended(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return ended_.wait_for(lock, timeout, [&] { return !alive_; });
}

void WorkerLink::read_loop() {
  std::vector<uint8_t> message;
  while (true) {
    // A request sent while the reader waits does not wake it: it looks again at least this
    // often, so a deadline is watched within 50 ms of its grace running out.
    auto timeout = std::chrono::milliseconds(50);
    {
      std::lock_guard lock(mutex_);
      if (draining_ && waiting_.empty()) break;
      auto earliest = Clock::time_point::max();
      for (const auto& [id, w] : waiting_) earliest = std::min(earliest, w.deadline);
      if (earliest != Clock::time_point::max())
        timeout = std::clamp(std::chrono::ceil<std::chrono::milliseconds>(earliest + grace_ - Clock::now()),
                             std::chrono::milliseconds(0), timeout);
    }
    int fd = -1;
    auto got = channel_->receive(message, fd, timeout, spin_);
    if (fd >= 0) close(fd);  // the worker sends no descriptors
    if (!got || *got == Channel::Received::closed) break;
    if (*got == Channel::Received::timed_out) {
      std::lock_guard lock(mutex_);
      const auto now = Clock::now();
      for (const auto& [id, w] : waiting_)
        if (w.deadline + grace_ <= now && killed_because_.empty())
          killed_because_ = "was killed by the watchdog: a request outlived its deadline by " +
                            std::to_string(grace_.count()) +
                            " ms (the GPU, the driver or the compiler did not let go of it)";
      if (!killed_because_.empty()) break;
      continue;
    }
    Reader r(message);
    const auto kind = static_cast<Kind>(r.u8());
    const uint64_t id = r.u64();
    if (kind == Kind::ready) {
      const bool ok = r.boolean();
      std::lock_guard lock(mutex_);
      if (ok) {
        ready_ = Result<size_t>(static_cast<size_t>(r.u64()));
        spin_ = std::chrono::microseconds(static_cast<int64_t>(r.u64()));
      } else {
        ready_ = Result<size_t>(get_error(r));
      }
      ready_changed_.notify_all();
    } else if (kind == Kind::dying) {
      std::lock_guard lock(mutex_);
      dying_signal_ = process::fatal_signal_of(r.text());
    } else if (kind == Kind::abandoned) {
      if (events_.abandoned) events_.abandoned(*this);
    } else if (kind == Kind::reply) {
      Handler handler;
      {
        std::lock_guard lock(mutex_);
        auto it = waiting_.find(id);
        if (it == waiting_.end()) continue;
        handler = std::move(it->second.handler);
        waiting_.erase(it);
      }
      if (r.boolean()) run_handler(handler, &r);
      else run_handler(handler, get_error(r));
    }
  }
  std::string killed;
  {
    std::lock_guard lock(mutex_);
    killed = killed_because_;
  }
  finish(killed);
}

void WorkerLink::finish(const std::string& why_killed) {
  std::unordered_map<uint64_t, Waiting> left;
  {
    // First: no request is taken from now on (a sender then tries the next worker).
    std::lock_guard lock(mutex_);
    alive_ = false;
    left.swap(waiting_);
    lost_ = left.size();
    for (const auto& [id, w] : left)
      if (w.kernel) lost_kernels_.push_back(w.kernel);
  }
  process::ExitStatus status = child_.kill_and_wait();
  {
    std::lock_guard lock(mutex_);
    // The status was reaped by someone else (the BEAM reaps every child): the worker's last
    // words, or who killed it, say what happened.
    if (status.unknown && dying_signal_) status = process::ExitStatus{.signal = dying_signal_};
    else if (status.unknown && !why_killed.empty()) status = process::ExitStatus{.signal = SIGKILL};
  }
  const std::string how =
      why_killed.empty() ? (status.unknown ? std::string("ended without a word (SIGKILL: the OOM killer, or an operator?)")
                                           : status.describe())
                         : why_killed;
  {
    std::lock_guard lock(mutex_);
    ended_how_ = how;
    if (!ready_) {
      ready_ = Result<size_t>(make_error(ErrorCode::no_adapter, "the GPU worker process (pid " + std::to_string(pid_) +
                                                                    ") " + how + " before it created its devices"));
      ready_changed_.notify_all();
    }
    ended_.notify_all();
  }
  // The successor is started before the calls that were in flight are answered, so that a
  // caller who retries at once finds it.
  if (events_.ended) events_.ended(*this);
  const auto now = Clock::now();
  for (auto& [id, w] : left) {
    const bool overdue = w.deadline + grace_ <= now;
    Error e = make_error(overdue ? ErrorCode::timeout : ErrorCode::device_lost,
                         "the GPU worker process (pid " + std::to_string(pid_) + ") ended" +
                             (overdue ? "" : " while this call was in flight") + ": " + how +
                             "; a new worker serves the next calls");
    run_handler(w.handler, std::move(e));
  }
}

}  // namespace kem::worker
