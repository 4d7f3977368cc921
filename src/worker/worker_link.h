// The service's side of one GPU worker process: the process, its socket, and the requests it
// has not answered yet. One reader thread per link reads the replies, runs their handlers, and
// is the watchdog: when a request outlives its deadline plus the grace period (a driver that
// hangs, a compile that never ends), it kills the process. When the process ends, however it
// ends, every request still waiting gets an error saying how it ended, and `ended` runs.
//
// Threads: any thread may send; handlers run on the reader thread (or on the sending thread,
// for a request the link could not send). The link's owner (WorkerDevices) joins the reader
// thread by destroying the link, never from a handler.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "kem/executor_pool.h"
#include "process/child_process.h"
#include "worker/channel.h"
#include "worker/wire.h"

namespace kem::worker {

class WorkerLink {
 public:
  using Clock = std::chrono::steady_clock;
  // A reply: a reader positioned after the worker's "ok" (the request's own result follows),
  // or the error (the worker's, or the link's when the process ended first).
  using Handler = std::function<void(Result<Reader*>)>;

  struct Events {
    std::function<void(WorkerLink&)> ended;      // on the reader thread, after every handler ran
    std::function<void(WorkerLink&)> abandoned;  // the worker abandoned a device: replace it
  };

  // Starts the process and sends it the devices' options; does not wait for it.
  static Result<std::unique_ptr<WorkerLink>> start(const std::string& program, const ExecutorPoolOptions& devices,
                                                   std::chrono::milliseconds grace, Events events);
  // Kills the process if it still runs, joins the reader thread.
  ~WorkerLink();

  // Waits until the worker created its devices: their number, or why it could not.
  Result<size_t> wait_ready(std::chrono::milliseconds timeout);

  static uint64_t next_id() { return ids_.fetch_add(1) + 1; }
  // Sends `message` (built with message(kind, id)) and `fd` with it; `handler` gets the reply.
  // A request not answered by `deadline` plus the grace period gets the process killed. When
  // the request cannot be sent, `handler` is left to the caller (to run after it let go of its
  // locks) and the error returned.
  std::optional<Error> request(uint64_t id, Writer& message, Handler& handler, Clock::time_point deadline,
                               int fd = -1, uint64_t kernel = 0);
  // Sends a message that gets no reply.
  Status notify(Writer& message, int fd = -1);

  // Stops taking requests and ends the process once those in flight are answered (or their
  // deadline and grace passed).
  void drain();
  // Ends the process now: requests in flight get device_lost.
  void kill(std::string why);
  // Ends the process now because a successor replaces it (its device was abandoned): the
  // requests in flight were not its fault, and their handlers see replaced() and send them on.
  void replace();
  bool replaced() const { return replaced_; }
  // Waits at most `timeout` for the process to end (after drain() or kill()).
  bool wait_ended(std::chrono::milliseconds timeout);

  bool alive() const;
  bool ever_ready() const;
  pid_t pid() const { return pid_; }
  std::string ended_how() const;  // "killed by signal 8 (SIGFPE)", once ended
  size_t lost() const;             // requests answered with an error because it ended
  // The kernels (keys) of the calls that were in flight when it ended, one per call.
  std::vector<uint64_t> lost_kernels() const;

  // What this worker already holds, so that each is sent once. Guarded by the caller holding
  // sent_mutex() around "check, send, mark" with the request that needs it.
  std::mutex& sent_mutex() { return sent_mutex_; }
  std::unordered_set<uint64_t>& kernels_sent() { return kernels_sent_; }
  std::unordered_set<uint64_t>& arenas_sent() { return arenas_sent_; }

 private:
  WorkerLink() = default;
  void read_loop();
  void finish(const std::string& why_killed);

  process::ChildProcess child_;  // touched by the reader thread only, after start
  pid_t pid_ = -1;
  std::unique_ptr<Channel> channel_;
  std::chrono::milliseconds grace_{0};
  std::chrono::microseconds spin_{0};  // the worker's polling (its ready message); reader thread only
  Events events_;
  inline static std::atomic<uint64_t> ids_{0};  // unique across links: a request may move to the next worker

  struct Waiting {
    Handler handler;
    Clock::time_point deadline;
    uint64_t kernel = 0;  // a call's kernel key; 0 for other requests
  };
  mutable std::mutex mutex_;
  std::condition_variable ready_changed_, ended_;
  std::unordered_map<uint64_t, Waiting> waiting_;
  std::optional<Result<size_t>> ready_;
  bool alive_ = true, draining_ = false;
  std::string killed_because_, ended_how_;
  size_t lost_ = 0;
  std::vector<uint64_t> lost_kernels_;
  std::atomic<bool> replaced_{false};
  int dying_signal_ = 0;  // what the worker's last words said (process/fatal_signals.h)
  bool we_killed_ = false;

  std::mutex sent_mutex_;
  std::unordered_set<uint64_t> kernels_sent_, arenas_sent_;

  std::thread reader_;  // last: started when everything above exists
};

}  // namespace kem::worker
