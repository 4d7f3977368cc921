#include "kem/kernel_admission.h"

#include <atomic>
#include <mutex>

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

  explicit Impl(KernelAdmissionOptions o) : options(std::move(o)), cache(options.verdict_capacity) {}

  KernelKey key_of(const KernelRequest& request) const {
    return sandbox::kernel_key(request, options.executor.metering && !request.unmetered);
  }

  // Runs the sandbox for `key` (this caller owns the flight) and publishes the verdict.
  Status run(const KernelKey& key, const KernelRequest& request, const std::shared_ptr<Flight>& flight) {
    sandbox::SandboxOutcome outcome;
    try {
      outcome = sandbox::run_in_sandbox(program, options, request);
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
      cache.insert(key, outcome.status);
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
      if (options.verdict_capacity == 0)
        return make_error(ErrorCode::invalid_argument,
                          "the kernel sandbox must remember at least one verdict (sandbox_verdicts)");
    }
    auto impl = std::make_unique<Impl>(std::move(options));
    if (impl->options.enabled) {
      auto program = process::find_helper_program("kem-kernel-sandbox", "KEM_KERNEL_SANDBOX");
      if (!program) return program.take_error();
      impl->program = std::move(program).value();
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
