// The devices in a supervised GPU worker process (kem-gpu-worker, worker_server.h): calls go
// over its socket, large bytes through shared memory (transfer_arenas.h), kernels once per
// worker (kernel_keys.h). When the worker ends (a crash, the watchdog, or a replacement after
// an abandoned device), its calls in flight get an error that says how, and a new worker is
// started at once; calls submitted meanwhile queue on the new worker's socket.
//
// Threads: callers submit from any thread; replies and completions run on the current link's
// reader thread (worker_link.h); one supervisor thread destroys ended links and restarts a
// worker that failed before it was ready, with back-off.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "executor/session/parallel_copy.h"
#include "worker/devices.h"
#include "worker/kernel_keys.h"
#include "worker/protocol.h"
#include "worker/transfer_arenas.h"
#include "worker/worker_link.h"

namespace kem::worker {

struct ParentCall;

class WorkerDevices final : public Devices {
 public:
  // Starts the worker and waits until its devices exist (or why they cannot).
  static Result<std::unique_ptr<Devices>> create(const WorkerOptions& options, const ExecutorPoolOptions& devices);
  // Asks the worker to finish its calls and exit (killing it past their deadlines), then joins.
  ~WorkerDevices() override;

  void submit(const KernelRequest& request, Completion done) override;
  Result<Reflection> check(std::string_view source, std::string_view entry) override;
  ExecutorPool::Stats stats() const override;
  std::string adapter_info_json() const override;
  size_t size() const override { return device_count_; }
  void simulate_device_loss(size_t index) override;
  WorkerStats worker_stats() const override;
  void kill_worker() override;

 private:
  WorkerDevices(const WorkerOptions& options, const ExecutorPoolOptions& devices, std::string program);
  Result<std::shared_ptr<WorkerLink>> start_link();
  std::shared_ptr<WorkerLink> current() const;
  // Sends a request that waits for its reply on the calling thread.
  Result<std::vector<uint8_t>> ask(Writer& message, uint64_t id, const std::shared_ptr<WorkerLink>& link,
                                   std::chrono::milliseconds timeout) const;
  // Makes sure `link` holds the kernel `key` (its source: `source`); under link->sent_mutex().
  void send_kernel(WorkerLink& link, uint64_t key, std::string_view source);
  // Tells every worker that holds kernel or arena `id` (per `sent`) to let go of it.
  void forget_everywhere(Kind kind, std::unordered_set<uint64_t>& (WorkerLink::*sent)(), uint64_t id);
  // Sends a prepared call on `link` (and on to a successor, once, if `link` is replaced).
  void send_call(const std::shared_ptr<ParentCall>& call, std::shared_ptr<WorkerLink> link);
  // memcpy, on several threads for large runs: the boundary's own copies (caller memory into
  // an arena, an arena into the caller's output) must not halve a large call's bandwidth.
  void copy(uint8_t* dst, const uint8_t* src, size_t size);
  void on_ended(WorkerLink& link);
  void on_abandoned(WorkerLink& link);
  void supervise();
  WorkerStats stats_snapshot_locked() const;

  const WorkerOptions options_;
  const ExecutorPoolOptions devices_;
  const std::string program_;
  size_t device_count_ = 0;
  KernelKeys kernels_;
  TransferArenas arenas_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::shared_ptr<WorkerLink> current_;
  std::shared_ptr<WorkerLink> to_replace_;  // abandoned a device: ended once its successor runs
  std::vector<std::shared_ptr<WorkerLink>> links_;  // every link not yet destroyed, current too
  bool stopping_ = false, restart_wanted_ = false;
  std::chrono::milliseconds restart_delay_{0};
  std::chrono::steady_clock::time_point ended_at_{};
  WorkerStats worker_stats_;
  // Counters of workers that ended: what each last reported (replaced ones: just before they
  // went), so the service's counters never go back when a worker is replaced.
  ExecutorPool::Stats retired_stats_;
  mutable ExecutorPool::Stats last_stats_;       // the current worker's, as last asked
  mutable const WorkerLink* last_stats_of_ = nullptr;
  std::string last_start_error_;
  // Kernels that were in flight when a worker died (the rule is in on_ended): the refused ones
  // are answered at once, so a kernel that crashes the driver cannot take down worker after
  // worker, and other callers' calls with them.
  struct Strikes {
    int count = 0;
    std::chrono::steady_clock::time_point refused_until{};
    std::string how;
  };
  std::unordered_map<uint64_t, Strikes> strikes_;
  // Kernels that have run to a result once: never suspects (the crash came from a new one).
  std::unordered_set<uint64_t> proven_;

  std::mutex copy_mutex_;  // one large copy at a time (ParallelCopy's rule)
  std::unique_ptr<executor::ParallelCopy> copier_;

  std::thread supervisor_;  // last: started when everything above exists
};

}  // namespace kem::worker
