// The devices as the service sees them: an ExecutorPool in this process (LocalDevices), or one
// in a supervised GPU worker process (WorkerDevices, worker_devices.h). Both answer calls with
// the pool's semantics: `done` exactly once, on a thread the devices own or, for a call refused
// before it was sent, on the calling thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "kem/executor_pool.h"
#include "kem/worker_options.h"

namespace kem::worker {

using kem::WorkerStats;

class Devices {
 public:
  virtual ~Devices() = default;
  virtual void submit(const KernelRequest& request, Completion done) = 0;
  virtual Result<Reflection> check(std::string_view source, std::string_view entry) = 0;
  virtual ExecutorPool::Stats stats() const = 0;
  virtual std::string adapter_info_json() const = 0;
  virtual size_t size() const = 0;
  virtual void simulate_device_loss(size_t index) = 0;
  virtual WorkerStats worker_stats() const = 0;
  // Test hook: SIGKILL the worker process, as the OOM killer would (no-op for LocalDevices).
  virtual void kill_worker() = 0;
};

// The devices `options` ask for: in a worker process unless options.isolate is false.
Result<std::unique_ptr<Devices>> open_devices(const WorkerOptions& options, const ExecutorPoolOptions& devices);

}  // namespace kem::worker
