#include "executor/session/call_planner.h"

#include <algorithm>
#include <utility>

#include "executor/session/admission.h"
#include "wgsl/metering.h"
#include "wgsl/overrides.h"

namespace kem::executor {

CallPlanner::CallPlanner(gpu::Device& device, const ExecutorOptions& options, Counters& counters)
    : device_(device), options_(options), counters_(counters), cache_(options.pipeline_cache_capacity) {
  const auto& l = device.limits();
  limits_.max_storage_binding = l.maxStorageBufferBindingSize;
  limits_.max_uniform_binding = l.maxUniformBufferBindingSize;
  limits_.max_buffer = l.maxBufferSize;
  limits_.max_workgroups_per_dimension = l.maxComputeWorkgroupsPerDimension;
}

Result<std::shared_ptr<CompiledKernel>> CallPlanner::kernel(
    std::string_view source, std::string_view entry, bool metered,
    std::span<const std::pair<std::string, double>> overrides) {
  // Empty (no allocation) for a request that sets no overrides: the warm path stays copy-free.
  const std::string overrides_key = overrides_cache_key(overrides);
  if (auto cached = cached_kernel(source, entry, metered, overrides_key)) return cached;
  ++counters_.pipeline_misses;
  auto compiled = compile_kernel(device_, source, entry, metered, overrides);
  if (!compiled) return compiled.take_error();
  auto shared = std::make_shared<CompiledKernel>(std::move(compiled).value());
  shared->serial = next_kernel_serial_++;
  cache_.insert(source, entry, metered, overrides_key, shared);
  return shared;
}

std::shared_ptr<CompiledKernel> CallPlanner::cached_kernel(std::string_view source, std::string_view entry,
                                                           bool metered, std::string_view overrides_key) {
  auto cached = cache_.find(source, entry, metered, overrides_key);
  // The first lookup of a kernel compiled by ready_or_park is that compile's own call: a miss.
  if (cached) ++(std::exchange(cached->compiled_unlooked, false) ? counters_.pipeline_misses : counters_.pipeline_hits);
  return cached;
}

CallPlanner::~CallPlanner() {
  for (PendingCall& c : take_parked())
    c.answer(make_error(ErrorCode::device_lost, "the device went away while this call's kernel compiled"));
}

std::shared_ptr<CompiledKernel> CallPlanner::cache_compiled(Compiling& c) {
  auto shared = std::make_shared<CompiledKernel>(std::move(c.build.kernel));
  shared->serial = next_kernel_serial_++;
  shared->compiled_unlooked = true;  // the call that started the compile counts the miss
  cache_.insert(c.source, c.entry, c.metered, c.overrides, shared);
  return shared;
}

std::shared_ptr<CompiledKernel> CallPlanner::ready_or_park(PendingCall& call) {
  const KernelRequest& request = call.request;
  const bool metered = options_.metering && !request.unmetered;
  const std::string overrides_key = overrides_cache_key(request.overrides);
  if (auto cached = cached_kernel(request.source, request.entry, metered, overrides_key)) return cached;
  if (gpu::Clock::now() >= call.deadline) {
    call.answer(call.deadline_error("the call waited in the queue past its deadline"));
    return nullptr;
  }
  for (Compiling& c : compiling_) {
    if (c.metered == metered && c.entry == request.entry && c.overrides == overrides_key && c.source == request.source) {
      c.waiting.push_back(std::move(call));
      return nullptr;
    }
  }
  // A compile is one pipeline miss: counted here when it fails, by the first lookup when not.
  auto build = start_kernel(device_, request.source, request.entry, metered, request.overrides);
  if (!build) {
    ++counters_.pipeline_misses;
    call.answer(build.take_error());
    return nullptr;
  }
  // Cheap kernels are ready at once (Dawn's own cache, or a quick driver): no waiting then.
  if (auto done = finish_kernel(device_, *build, std::chrono::nanoseconds(0))) {
    if (!*done) {
      ++counters_.pipeline_misses;
      call.answer(done->take_error());
      return nullptr;
    }
    Compiling now{std::string(request.source), request.entry, overrides_key, metered, std::move(build).value(), {}};
    auto compiled = cache_compiled(now);
    compiled->compiled_unlooked = false;
    ++counters_.pipeline_misses;
    return compiled;
  }
  compiling_.push_back(Compiling{std::string(request.source), request.entry, overrides_key, metered,
                                 std::move(build).value(), {}});
  compiling_.back().waiting.push_back(std::move(call));
  return nullptr;
}

std::vector<PendingCall> CallPlanner::poll_compiles(std::chrono::nanoseconds timeout) {
  std::vector<PendingCall> ready;
  const auto now = gpu::Clock::now();
  for (auto it = compiling_.begin(); it != compiling_.end();) {
    std::optional<Status> done = finish_kernel(device_, it->build, timeout);
    timeout = std::chrono::nanoseconds(0);  // only the first waits
    if (!done) {
      // Still compiling: those past their deadline stop waiting. A compile that outlived every
      // call that waited for it is abandoned work, as a group that outlived every deadline in
      // it: the device is given up (a GPU worker is replaced; issue 16), since the driver's
      // compile cannot be stopped and would hold a core for as long as it takes.
      auto& w = it->waiting;
      for (PendingCall& c : w)
        if (now >= c.deadline) c.answer(c.deadline_error("the call's deadline passed while its kernel compiled"));
      w.erase(std::remove_if(w.begin(), w.end(), [](const PendingCall& c) { return c.answered(); }), w.end());
      if (w.empty()) abandoned_ = true;
      ++it;
      continue;
    }
    if (*done) {
      cache_compiled(*it);
      for (PendingCall& c : it->waiting) ready.push_back(std::move(c));
    } else {
      ++counters_.pipeline_misses;
      for (PendingCall& c : it->waiting) c.answer(done->error());
    }
    it = compiling_.erase(it);
  }
  return ready;
}

std::vector<PendingCall> CallPlanner::take_parked() {
  std::vector<PendingCall> parked;
  for (Compiling& c : compiling_)
    for (PendingCall& call : c.waiting) parked.push_back(std::move(call));
  compiling_.clear();
  return parked;
}

Result<PreparedCall> CallPlanner::prepare(PendingCall& call, std::shared_ptr<CompiledKernel> compiled) {
  const auto now = gpu::Clock::now();
  if (now >= call.deadline) return call.deadline_error("the call waited in the queue past its deadline");
  const KernelRequest& request = call.request;
  // Its own time against what is left of its deadline, with the freshest measurement: a call
  // admitted behind work that took longer than expected is refused now, not run to a timeout.
  std::chrono::nanoseconds estimate{0};
  if (options_.admission) {
    estimate = counters_.load.times.estimate(call.kernel_key);
    if (Status admitted = admit(Duration(0), estimate, call.deadline - now, call.timeout.timeout); !admitted) {
      ++counters_.refused;
      Error refusal = admitted.take_error();
      // Later, the device has the work now queued behind this call to do first.
      const auto behind = std::chrono::ceil<std::chrono::milliseconds>(counters_.load.expected_wait(now));
      if (refusal.code == ErrorCode::unavailable) refusal.retry_after = std::max(refusal.retry_after, behind);
      return refusal;
    }
  }
  auto shape = shape_call(request, options_, limits_, compiled->shape);
  if (!shape) return shape.take_error();
  PreparedCall prepared;
  prepared.call = &call;
  prepared.kernel = std::move(compiled);
  prepared.shape = *shape;
  prepared.loop_budget = effective_loop_budget(options_.loop_budget, request.loop_budget);
  prepared.estimate = estimate;
  if (estimate.count() > 0) prepared.estimate_high = counters_.load.times.estimate_high(call.kernel_key);
  return prepared;
}

Route CallPlanner::route(const PreparedCall& call) const {
  const CallShape& s = call.shape;
  if (s.input_binding_bytes <= options_.batch_call_bytes && s.output_binding_bytes <= options_.batch_call_bytes)
    return Route::batch;
  if (s.input_binding_bytes >= options_.staged_transfer_bytes || s.output_binding_bytes >= options_.staged_transfer_bytes)
    return Route::staged_chunks;
  return Route::alone;
}

size_t CallPlanner::batch_limit() const { return std::max<size_t>(1, options_.max_batch_calls); }

}  // namespace kem::executor
