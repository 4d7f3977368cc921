// Decides how each call runs before anything touches the GPU: checks it against its deadline,
// its kernel (compiled through the pipeline cache) and the limits, shapes it, and picks its
// route: in a batch, alone through queue writes, or alone through staged chunks.
#pragma once

#include <chrono>
#include <list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "executor/call_shape.h"
#include "executor/compiled_kernel.h"
#include "executor/pipeline_cache.h"
#include "executor/session/counters.h"
#include "executor/session/prepared_call.h"
#include "kem/executor_options.h"
#include "webgpu/device.h"

namespace kem::executor {

enum class Route {
  batch,          // small: shares a submission and a readback with the calls queued next to it
  alone,          // too large to batch: its own submission, still through queue writes
  staged_chunks,  // large: its own submission, moved through mapped staging buffers in chunks
};

class CallPlanner {
 public:
  CallPlanner(gpu::Device& device, const ExecutorOptions& options, Counters& counters);
  // Calls still waiting for a compile are answered (the executor takes them before it retires
  // a session; this is the net under that, so that no completion is ever lost).
  ~CallPlanner();
  CallPlanner(const CallPlanner&) = delete;
  CallPlanner& operator=(const CallPlanner&) = delete;

  // The compiled kernel, from the cache or compiled now (and cached), waiting for the driver.
  Result<std::shared_ptr<CompiledKernel>> kernel(std::string_view source, std::string_view entry, bool metered,
                                                 std::span<const std::pair<std::string, double>> overrides = {});

  // Compiles without holding up other calls. The kernel when `call`'s kernel is compiled:
  // prepare the call with it. Otherwise null, and the call is taken (moved out of `call`): it waits, with any other call of the
  // same kernel, while the driver compiles on its own threads, and comes back from
  // poll_compiles(); or, when the compile failed before the driver's part (KEM's passes, Tint,
  // the contract) or its deadline has passed, it is answered now.
  std::shared_ptr<CompiledKernel> ready_or_park(PendingCall& call);
  // Looks at the compiles under way (waiting up to `timeout` for the first): the calls whose
  // kernel is now compiled and cached, to be run; those of failed compiles, and those past
  // their deadline, are answered here.
  std::vector<PendingCall> poll_compiles(std::chrono::nanoseconds timeout);
  bool compiling() const { return !compiling_.empty(); }
  // A compile outlived every call that waited for it (poll_compiles).
  bool abandoned() const { return abandoned_; }
  // The calls still waiting for a compile, for a session that is being retired.
  std::vector<PendingCall> take_parked();
  // The call checked and shaped with its kernel (from ready_or_park), or why it cannot run.
  Result<PreparedCall> prepare(PendingCall& call, std::shared_ptr<CompiledKernel> kernel);
  Route route(const PreparedCall& call) const;
  // Calls in one batch at most.
  size_t batch_limit() const;

 private:
  gpu::Device& device_;
  const ExecutorOptions& options_;
  Counters& counters_;
  DeviceLimits limits_;
  PipelineCache cache_;
  uint64_t next_kernel_serial_ = 1;

  // A kernel the driver is compiling, and the calls that wait for it.
  struct Compiling {
    std::string source, entry, overrides;
    bool metered;
    KernelBuild build;
    std::vector<PendingCall> waiting;
  };
  std::list<Compiling> compiling_;
  bool abandoned_ = false;
  std::shared_ptr<CompiledKernel> cache_compiled(Compiling& c);
  // From the cache, counted as a hit (or as the miss of the compile that put it there).
  std::shared_ptr<CompiledKernel> cached_kernel(std::string_view source, std::string_view entry, bool metered,
                                                std::string_view overrides_key);
};

}  // namespace kem::executor
