// The executor: a warm GPU device that runs WGSL kernels on byte buffers. Instance, adapter,
// device, pipelines and buffers persist across calls. Its settings (ExecutorOptions) and the
// completion types live in kem/executor_options.h, included here.
//
// Threading model (docs/ARCHITECTURE.md draws it):
// - Any number of caller threads may call every method at once. submit() queues a job; run()
//   queues one too, or takes the direct-call fast path below; check(), reconnect() and
//   simulate_device_loss() queue a task and wait for it.
// - Exactly one thread at a time drives the current WebGPU device, and only while it holds the
//   executor's device lock: normally its GPU thread, which drains the queue (calls queued
//   together are batched). (create() makes the first device before that thread starts, the
//   destructor destroys the last one after it ended; a retired device belongs to the
//   retirement thread alone.) With ExecutorOptions::direct_calls (the default), a run() that finds
//   the executor idle (no other call queued or running, device lock free) drives the device from
//   the caller's own thread instead, saving two thread hand-offs; the GPU thread waits meanwhile.
// - Completions run on the thread driving the device: the GPU thread, or a run() caller on the
//   fast path (which may also answer a call queued meanwhile whose deadline passed). A request
//   rejected before queueing is answered on the calling thread.
// - Threads the executor starts, and joins: the GPU thread (from create() to the destructor, which
//   first lets it finish what is queued); one retirement thread, from the first lost or abandoned
//   device on, which destroys old devices off the driving thread (the destructor joins it, so it
//   may wait for a driver to let go of an abandoned device); and, from the first large call on,
//   the staging copy threads of the current device, joined when that device is destroyed.
//   No thread is detached. Dawn's own worker threads run the driver's compile of a new kernel
//   (asynchronous pipeline creation): the calls of that kernel wait aside, the others go on, and
//   the thread driving the device looks at the compile every millisecond (only then does its
//   callback run, on that thread). The destructor also waits for compiles that calls wait for.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kem/executor_options.h"
#include "kem/kernel_request.h"
#include "kem/reflection.h"
#include "kem/result.h"

namespace kem {

class Executor {
 public:
  // Creates the instance, adapter and device. Refuses Dawn's Null backend and adapters that
  // cannot run compute.
  static Result<std::unique_ptr<Executor>> create(ExecutorOptions options = {});
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Runs one call and waits for it.
  Result<std::vector<uint8_t>> run(const KernelRequest& request);

  // Queues one call; `done` runs exactly once, on the thread driving the device (the GPU thread,
  // or a run() caller on the direct-call fast path) or, for requests rejected before queueing,
  // on the calling thread. It must not block for long.
  void submit(const KernelRequest& request, Completion done);

  // Compiles the kernel (through the pipeline cache) and returns its reflection, or the compile
  // error with line:column.
  Result<Reflection> check(std::string_view source, std::string_view entry = "main");

  // Compiles the pipeline a call of `request` would use (its source, entry point and overrides;
  // metered unless request.unmetered or the executor's metering is off), through the pipeline
  // cache, without running anything: the same errors as the call would get before it ran. The
  // kernel sandbox (src/sandbox/) compiles a new kernel this way, in a process of its own.
  Status compile(const KernelRequest& request);

  // Adapter description as a JSON object (name, vendor, device, driver, backend, limits...).
  std::string adapter_info_json() const;

  // Test hook: destroys the current device as a driver crash would. The next call gets a new one.
  void simulate_device_loss();

  struct Stats {
    uint64_t calls = 0, errors = 0, pipeline_hits = 0, pipeline_misses = 0, device_losses = 0;
    uint64_t submissions = 0;  // GPU submissions; fewer than calls when calls were batched
    uint64_t refused = 0;      // calls refused by admission control (ExecutorOptions::admission)
  };
  Stats stats() const;

  // Calls queued or running right now (for schedulers that spread work over executors).
  size_t queue_depth() const;

  // False once the device was lost or abandoned, until a new one has been created (which the
  // next call, or reconnect(), does).
  bool healthy() const;

  // Creates a new device if the current one is lost or abandoned; waits for it. OK when the
  // executor already has a healthy device.
  Status reconnect();

 private:
  struct Impl;
  explicit Executor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kem
