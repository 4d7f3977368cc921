#include "kem/kernel_admission.h"

#include <atomic>
#include <mutex>
#include <optional>
#include <utility>

#include "process/child_process.h"
#include "sandbox/kernel_key.h"
#include "sandbox/sandbox_run.h"
#include "sandbox/verdict_cache.h"

namespace kem {

using sandbox::Flight;
using sandbox::KernelKey;

struct KernelAdmission::Impl {
  KernelAdmissionOptions options;
  std::string program;  // kem-kernel-sandbox
  mutable std::mutex mutex;
  sandbox::VerdictCache cache;  // under mutex
  Stats counts;                 // under mutex
  // The spare: started ahead (Dawn coming up meanwhile), taken by the next sandbox run, which
  // starts the next one. Its own mutex: starting a process is never done under `mutex`.
  std::mutex spare_mutex;
  std::optional<sandbox::StartedSandbox> spare;

  // Starts a spare if there is none. A spare belongs to the thread that started it as far as
  // PR_SET_PDEATHSIG goes (it dies with that thread): if that thread has ended, the next run
  // finds it gone and starts a fresh process instead.
  void top_up_spare() {
    if (!options.spare) return;
    {
      std::lock_guard lock(spare_mutex);
      if (spare) return;
    }
    auto next = sandbox::start_sandbox(program, options);
    if (!next) return;  // the next run starts its own, and reports why if it cannot
    std::lock_guard lock(spare_mutex);
    if (!spare) spare = std::move(next).value();
  }
  std::optional<sandbox::StartedSandbox> take_spare() {
    std::lock_guard lock(spare_mutex);
    return std::exchange(spare, std::nullopt);
  }

  sandbox::SandboxOutcome run_one(const KernelRequest& request) {
    auto ready = take_spare();
    top_up_spare();
    if (ready) {
      auto outcome = sandbox::finish_in_sandbox(std::move(*ready), options, request);
      if (outcome.started) return outcome;
      // The spare died before it was ready (its thread ended, or the machine is short): again,
      // with a process of its own.
    }
    return sandbox::run_in_sandbox(program, options, request);
  }

  explicit Impl(KernelAdmissionOptions o) : options(std::move(o)), cache(options.verdict_capacity) {}

  KernelKey key_of(const KernelRequest& request) const {
    return sandbox::kernel_key(request, options.executor.metering && !request.unmetered);
  }

  // Runs the sandbox for `key` (this caller owns the flight) and publishes the verdict.
  Status run(const KernelKey& key, const KernelRequest& request, const std::shared_ptr<Flight>& flight) {
    sandbox::SandboxOutcome outcome;
    try {
      outcome = run_one(request);
    } catch (const std::exception& e) {
      outcome.status = make_error(ErrorCode::internal, std::string("the kernel sandbox failed: ") + e.what());
    }
    std::lock_guard lock(mutex);
    ++counts.sandbox_runs;
    if (outcome.about_the_kernel) {
      ++(outcome.status ? counts.admitted : counts.refused);
      counts.last_vm_peak = outcome.usage.vm_peak;
      counts.last_vm_hwm = outcome.usage.vm_hwm;
      counts.last_cpu_ms = outcome.usage.cpu_ms;
      counts.last_wall_ms = static_cast<uint64_t>(outcome.wall.count());
      std::optional<sandbox::VerdictCache::Clock::time_point> forget_at;
      if (outcome.over_wall_time) forget_at = sandbox::VerdictCache::Clock::now() + options.wall_refusal_memory;
      cache.insert(key, outcome.status, forget_at);
    } else {
      ++counts.failures;  // not remembered: the next call tries again
    }
    flight->verdict = outcome.status;
    flight->done = true;
    cache.end(key);
    flight->done_cv.notify_all();
    return outcome.status;
  }
};

KernelAdmission::KernelAdmission(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KernelAdmission::~KernelAdmission() = default;

Result<std::unique_ptr<KernelAdmission>> KernelAdmission::create(KernelAdmissionOptions options) {
  try {
    if (options.enabled) {
      if (options.timeout.count() <= 0 || options.start_timeout.count() <= 0)
        return make_error(ErrorCode::invalid_argument, "the kernel sandbox's timeouts must be positive");
      if (options.wall_refusal_memory.count() < 0)
        return make_error(ErrorCode::invalid_argument, "the kernel sandbox's wall_refusal_memory cannot be negative");
      if (options.verdict_capacity == 0)
        return make_error(ErrorCode::invalid_argument,
                          "the kernel sandbox must remember at least one verdict (sandbox_verdicts)");
    }
    auto impl = std::make_unique<Impl>(std::move(options));
    if (impl->options.enabled) {
      auto program = process::find_helper_program("kem-kernel-sandbox", "KEM_KERNEL_SANDBOX");
      if (!program) return program.take_error();
      impl->program = std::move(program).value();
      impl->top_up_spare();
    }
    return std::unique_ptr<KernelAdmission>(new KernelAdmission(std::move(impl)));
  } catch (const std::exception& e) {
    return make_error(ErrorCode::internal, std::string("cannot set up kernel admission: ") + e.what());
  }
}

Status KernelAdmission::admit(const KernelRequest& request) {
  Impl& impl = *impl_;
  if (!impl.options.enabled) return {};
  try {
    const KernelKey key = impl.key_of(request);
    std::shared_ptr<Flight> flight;
    {
      std::unique_lock lock(impl.mutex);
      if (auto known = impl.cache.find(key)) {
        ++impl.counts.cache_hits;
        return *known;
      }
      if (auto running = impl.cache.flight(key)) {
        // Another caller's sandbox run of this kernel: its verdict is ours.
        ++impl.counts.shared_runs;
        running->done_cv.wait(lock, [&] { return running->done; });
        return running->verdict;
      }
      flight = impl.cache.begin(key);
    }
    return impl.run(key, request, flight);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::internal, std::string("kernel admission failed: ") + e.what());
  }
}

std::optional<Status> KernelAdmission::known(const KernelRequest& request) {
  Impl& impl = *impl_;
  if (!impl.options.enabled) return Status{};
  try {
    const KernelKey key = impl.key_of(request);
    std::lock_guard lock(impl.mutex);
    auto verdict = impl.cache.find(key);
    if (verdict) ++impl.counts.cache_hits;
    return verdict;
  } catch (const std::exception& e) {
    return Status(make_error(ErrorCode::internal, std::string("kernel admission failed: ") + e.what()));
  }
}

KernelAdmission::Stats KernelAdmission::stats() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->counts;
}

const KernelAdmissionOptions& KernelAdmission::options() const { return impl_->options; }

}  // namespace kem
