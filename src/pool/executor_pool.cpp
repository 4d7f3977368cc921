#include "kem/executor_pool.h"

#include <future>
#include <thread>

#include "pool/executor_pool_adapters.h"
#include "pool/executor_pool_state.h"
#include "wgsl/overrides.h"

namespace kem {

using pool::DeviceSlot;
using pool::kernel_key;
using pool::PoolClock;
using pool::PoolState;

namespace {

// Errors that say the device failed, not the call: the call may succeed on another device.
bool device_failed(const Error& e) { return e.code == ErrorCode::device_lost || e.code == ErrorCode::no_adapter; }
// The device's admission control refused the call (the only `unavailable` an executor answers,
// src/executor/session/admission.h): another device may have room for it.
bool device_busy(const Error& e) { return e.code == ErrorCode::unavailable; }

// One call through the pool, shared by its attempts. The request's views stay the caller's.
struct PoolCall {
  KernelRequest request;
  Completion done;
  uint64_t kernel = 0;
  PoolClock::time_point deadline;
  bool retried = false;
};

}  // namespace

struct ExecutorPool::Impl {
  ExecutorPoolOptions options;
  PoolState state;
  std::thread reconnect_thread;  // started by create(), stopped and joined by ~Impl

  Impl(ExecutorPoolOptions o, std::vector<DeviceSlot> slots)
      : options(std::move(o)), state(options, std::move(slots)) {}
  // Also when create() fails after starting the thread: a joinable std::thread must never be
  // destroyed (that terminates the process).
  ~Impl() {
    state.stop();
    if (reconnect_thread.joinable()) reconnect_thread.join();
  }

  uint64_t key_of(const KernelRequest& r) const {
    return kernel_key(r.source, r.entry, options.executor.metering && !r.unmetered,
                      overrides_cache_key(r.overrides));
  }

  void dispatch(const std::shared_ptr<PoolCall>& call, size_t device) {
    state.executor(device).submit(call->request, [this, call, device](Result<OutputView> out) {
      finished_on(call, device, std::move(out));
    });
  }

  void finished_on(const std::shared_ptr<PoolCall>& call, size_t device, Result<OutputView> out) {
    state.release(device);
    if (state.consume_lose_next_call(device)) {
      state.take_out(device, /*destroy=*/true);
      out = make_error(ErrorCode::device_lost,
                       "device " + std::to_string(device) + " was lost during the call (simulated)");
    }
    if (out) {
      state.warm(call->kernel, device);
      return finish(call, std::move(out));
    }
    if (!device_failed(out.error())) {
      if (device_busy(out.error()) && !call->retried && retry_elsewhere(call, device, /*lost=*/false)) return;
      return finish(call, std::move(out));
    }
    state.take_out(device);
    if (!call->retried && retry_elsewhere(call, device, /*lost=*/true)) return;
    finish(call, std::move(out));
  }

  // Sends a call lost with its device (or refused by a busy one) to another device of the
  // rotation, once, within what is left of its deadline. False when there is none (the caller
  // gets the original error). Only losses count as the device's retries.
  bool retry_elsewhere(const std::shared_ptr<PoolCall>& call, size_t lost_device, bool lost) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(call->deadline - PoolClock::now());
    if (left.count() <= 0) return false;
    auto other = state.acquire(call->kernel, lost_device);
    if (!other) return false;
    call->retried = true;
    call->request.timeout = left;
    if (lost) state.count_retry(lost_device);
    try {
      dispatch(call, *other);
    } catch (const std::exception&) {
      // Only allocation can fail on the way there; the caller gets the loss.
      state.release(*other);
      return false;
    }
    return true;
  }

  void finish(const std::shared_ptr<PoolCall>& call, Result<OutputView> out) {
    struct Finished {
      PoolState& state;
      ~Finished() { state.call_finished(); }
    } finished{state};
    call->done(std::move(out));
  }
};

ExecutorPool::ExecutorPool(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

// Waits for the calls in flight; Impl's destructor then joins the reconnect thread, and the
// devices' executors join their own threads.
ExecutorPool::~ExecutorPool() { impl_->state.wait_for_no_calls(); }

Result<std::unique_ptr<ExecutorPool>> ExecutorPool::create(ExecutorPoolOptions options) {
  try {
    if (options.devices_per_adapter == 0)
      return make_error(ErrorCode::invalid_argument, "devices_per_adapter must be at least 1");
    auto selectors = pool::pool_adapter_selectors(options);
    if (!selectors) return selectors.take_error();
    const size_t count = selectors->size() * options.devices_per_adapter;
    if (count > pool::WarmDevices::kMaxDevices)
      return make_error(ErrorCode::invalid_argument, "a pool has at most " +
                                                         std::to_string(pool::WarmDevices::kMaxDevices) +
                                                         " devices, not " + std::to_string(count));
    std::vector<DeviceSlot> slots;
    for (const auto& selector : *selectors) {
      for (size_t k = 0; k < options.devices_per_adapter; ++k) {
        ExecutorOptions o = options.executor;
        o.adapter = selector;
        auto executor = Executor::create(o);
        if (!executor)
          return make_error(executor.error().code, "device " + std::to_string(slots.size()) + " (adapter '" +
                                                       selector + "'): " + executor.error().message);
        DeviceSlot slot;
        slot.selector = selector;
        slot.executor = std::move(executor).value();
        slots.push_back(std::move(slot));
      }
    }
    auto impl = std::make_unique<Impl>(std::move(options), std::move(slots));
    PoolState* state = &impl->state;
    impl->reconnect_thread = std::thread([state] { state->reconnect_loop(); });
    return std::unique_ptr<ExecutorPool>(new ExecutorPool(std::move(impl)));
  } catch (const std::exception& e) {
    return make_error(ErrorCode::internal, std::string("executor pool creation failed: ") + e.what());
  }
}

void ExecutorPool::submit(const KernelRequest& request, Completion done) {
  std::shared_ptr<PoolCall> call;
  try {
    if (request.timeout && request.timeout->count() <= 0)
      return done(make_error(ErrorCode::invalid_argument, "timeout must be positive"));
    // The executor caps the deadline the same way; the pool's copy bounds retries on another device.
    const auto timeout = call_timeout(impl_->options.executor, request.timeout).timeout;
    call = std::make_shared<PoolCall>(PoolCall{request, std::move(done), impl_->key_of(request),
                                               PoolClock::now() + timeout, false});
  } catch (const std::exception& e) {
    return done(make_error(ErrorCode::internal, std::string("could not queue the call: ") + e.what()));
  }
  impl_->state.call_started();
  const size_t device = *impl_->state.acquire(call->kernel);  // always a device without exclusion
  try {
    impl_->dispatch(call, device);
  } catch (const std::exception& e) {
    impl_->state.release(device);
    impl_->finish(call, make_error(ErrorCode::internal, std::string("could not queue the call: ") + e.what()));
  }
}

Result<std::vector<uint8_t>> ExecutorPool::run(const KernelRequest& request) {
  std::promise<Result<std::vector<uint8_t>>> promise;
  auto future = promise.get_future();
  submit(request, [&promise](Result<OutputView> out) {
    try {
      if (out) promise.set_value(std::vector<uint8_t>(out->begin(), out->end()));
      else promise.set_value(out.take_error());
    } catch (const std::exception& e) {
      promise.set_value(make_error(ErrorCode::internal, std::string("could not copy the output: ") + e.what()));
    }
  });
  return future.get();
}

Result<Reflection> ExecutorPool::check(std::string_view source, std::string_view entry) {
  const uint64_t kernel = kernel_key(source, entry, impl_->options.executor.metering);
  std::optional<size_t> device = impl_->state.acquire(kernel);
  Result<Reflection> result = make_error(ErrorCode::internal, "not checked");
  for (bool retried = false;; retried = true) {
    result = impl_->state.executor(*device).check(source, entry);
    impl_->state.release(*device);
    if (result) {
      impl_->state.warm(kernel, *device);
      return result;
    }
    if (!device_failed(result.error())) return result;
    impl_->state.take_out(*device);
    if (retried) return result;
    auto other = impl_->state.acquire(kernel, *device);
    if (!other) return result;
    impl_->state.count_retry(*device);
    device = other;
  }
}

size_t ExecutorPool::size() const { return impl_->state.size(); }

std::string ExecutorPool::device_adapter_info_json(size_t index) const {
  return index < impl_->state.size() ? impl_->state.executor(index).adapter_info_json() : "{}";
}

size_t ExecutorPool::queue_depth() const {
  size_t depth = 0;
  for (size_t i = 0; i < impl_->state.size(); ++i) depth += impl_->state.executor(i).queue_depth();
  return depth;
}

void ExecutorPool::simulate_device_loss(size_t index) {
  if (index >= impl_->state.size()) return;
  impl_->state.executor(index).simulate_device_loss();
  impl_->state.take_out(index);
}

void ExecutorPool::lose_device_during_next_call(size_t index) {
  if (index < impl_->state.size()) impl_->state.set_lose_next_call(index);
}

ExecutorPool::Stats ExecutorPool::stats() const {
  Stats stats;
  for (size_t i = 0; i < impl_->state.size(); ++i) {
    Executor& e = impl_->state.executor(i);
    auto snap = impl_->state.snapshot(i);
    DeviceStats d;
    d.selector = impl_->state.selector(i);
    d.executor = e.stats();
    d.queue_depth = e.queue_depth();
    d.healthy = e.healthy();
    d.in_rotation = snap.in_rotation;
    d.retried_elsewhere = snap.retried_elsewhere;
    d.removals = snap.removals;
    stats.total.calls += d.executor.calls;
    stats.total.errors += d.executor.errors;
    stats.total.pipeline_hits += d.executor.pipeline_hits;
    stats.total.pipeline_misses += d.executor.pipeline_misses;
    stats.total.device_losses += d.executor.device_losses;
    stats.total.refused += d.executor.refused;
    stats.devices.push_back(std::move(d));
  }
  stats.retries = impl_->state.retries();
  return stats;
}

}  // namespace kem
