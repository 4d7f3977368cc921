// A pool of executors: every GPU of a node (or a chosen list), each device with its own GPU
// thread, behind the Executor's interface. See docs/multi-gpu.md.
//
// Scheduling: a call goes to the device with the fewest calls queued or running, preferring one
// where its kernel is already compiled unless that device is busy while another is idle. A
// device that is lost leaves the rotation; the calls it lost are retried once (never twice) on
// another device, and a background thread brings it back once a new device can be created.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kem/executor.h"

namespace kem {

struct ExecutorPoolOptions {
  // Applied to every device; its `adapter` field is not used (see `adapters`).
  ExecutorOptions executor;
  // One selector per adapter, as ExecutorOptions::adapter understands them ("", "cpu", "#N",
  // "@N", a name substring). Empty: every GPU of the machine ("@N" for each physical GPU), or the
  // default adapter when there is none. KEM_ADAPTER, when set, replaces every selector (the
  // Executor applies it to each device).
  std::vector<std::string> adapters;
  // Devices (and GPU threads) created on each adapter.
  size_t devices_per_adapter = 1;
  // When every device is busy, a warm device still wins while it has at most this many calls
  // more than the least loaded one (a compile costs more than waiting for a call or two).
  size_t affinity_slack = 2;
  // How many (kernel, entry) pairs the pool remembers the warm devices of.
  size_t affinity_capacity = 4096;
  // Back-off between attempts to bring a lost device back: doubles from first to most.
  std::chrono::milliseconds reconnect_first_delay{50};
  std::chrono::milliseconds reconnect_most_delay{5000};
};

class ExecutorPool {
 public:
  // Creates every device; fails if any of them cannot be created.
  static Result<std::unique_ptr<ExecutorPool>> create(ExecutorPoolOptions options = {});
  // Waits for the calls in flight (each has a deadline), stops the reconnect thread, then closes
  // the devices.
  ~ExecutorPool();
  ExecutorPool(const ExecutorPool&) = delete;
  ExecutorPool& operator=(const ExecutorPool&) = delete;

  // As Executor::run / submit / check. `done` runs exactly once, on a GPU thread or, for a
  // request rejected before queueing, on the calling thread. What the request points to must stay
  // valid until then: a retry reuses it.
  Result<std::vector<uint8_t>> run(const KernelRequest& request);
  void submit(const KernelRequest& request, Completion done);
  Result<Reflection> check(std::string_view source, std::string_view entry = "main");

  // {"devices": [{"index", "selector", "adapter": {...as Executor::adapter_info_json...},
  //   "queue_depth", "healthy", "in_rotation", "calls", "errors", "device_losses",
  //   "pipeline_hits", "pipeline_misses", "retried_elsewhere", "removals"}...],
  //  "total": {"calls", "errors", "device_losses", "pipeline_hits", "pipeline_misses"},
  //  "retries": N}
  std::string adapter_info_json() const;

  struct DeviceStats {
    std::string selector;
    Executor::Stats executor;
    size_t queue_depth = 0;
    bool healthy = true, in_rotation = true;
    uint64_t retried_elsewhere = 0;  // calls lost here and retried on another device
    uint64_t removals = 0;           // times taken out of the rotation
  };
  struct Stats {
    std::vector<DeviceStats> devices;
    Executor::Stats total;
    uint64_t retries = 0;
  };
  Stats stats() const;

  size_t size() const;  // devices
  // Device `index`'s adapter, as Executor::adapter_info_json.
  std::string device_adapter_info_json(size_t index) const;
  size_t queue_depth() const;  // over every device

  // Test hooks. simulate_device_loss destroys device `index` as a driver crash would, between
  // calls. lose_device_during_next_call makes the next call that finishes on `index` fail with
  // device_lost (its output discarded) and destroys that device, as a crash in the middle of a
  // call would; WebGPU offers no way to crash a device while a kernel runs.
  void simulate_device_loss(size_t index);
  void lose_device_during_next_call(size_t index);

 private:
  struct Impl;
  explicit ExecutorPool(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kem
