// The service: resolve (at hand, or on a fetch thread), decide trust, run on the pool.
#include "kem/service.h"

#include <chrono>
#include <future>
#include <mutex>
#include <optional>

#include "service/adapter_report.h"
#include "service/fetch_threads.h"
#include "worker/devices.h"

namespace kem {
namespace {

// One call between resolution and completion: the resolved source backs request.source, and
// the pool may retry the request on another device, so both live until `done` has run.
struct ServiceCall {
  ResolvedKernel kernel;
  KernelRequest request;
  Completion done;
};

Error internal_error(const char* what, const std::exception& e) {
  return make_error(ErrorCode::internal, std::string(what) + ": " + e.what());
}

}  // namespace

struct Service::Impl {
  ServiceOptions options;
  std::unique_ptr<KernelStore> store;
  // The GPUs: in the supervised worker process, or in this one (options.worker.isolate).
  std::unique_ptr<worker::Devices> devices;
  mutable std::mutex trust_mutex;
  std::shared_ptr<const TrustPolicy> trust;
  std::unique_ptr<KernelAdmission> admission;
  // New kernels that were at hand wait for their sandbox run here. Destroyed after the fetch
  // threads (whose jobs may post nothing here) and before the admission and the pool it uses.
  std::unique_ptr<service::FetchThreads> admitters;
  // Declared last: destroyed first, so no fetch thread runs against a destroyed pool or store.
  std::unique_ptr<service::FetchThreads> fetchers;

  std::shared_ptr<const TrustPolicy> current_trust() const {
    std::lock_guard lock(trust_mutex);
    return trust;
  }

  // Runs a resolved call on the pool; reports a resolution error through `done`. `may_wait`:
  // on a fetch thread, which may wait for the kernel's admission.
  void start(Result<ResolvedKernel> resolved, KernelRequest request, Completion done, bool may_wait) {
    if (!resolved) return done(resolved.take_error());
    std::shared_ptr<ServiceCall> call;
    try {
      call = std::make_shared<ServiceCall>(ServiceCall{std::move(resolved).value(), std::move(request), std::move(done)});
    } catch (const std::exception& e) {
      return done(internal_error("could not queue the call", e));
    }
    call->request.source = call->kernel.source;
    call->request.unmetered = !call->kernel.id.empty() && current_trust()->unmetered(call->kernel);
    admit_then_run(std::move(call), may_wait);
  }

  // Only kernels whose sandboxed first compile passed reach the devices. A known verdict is
  // applied at once; a new kernel waits for its sandbox run on the fetch thread that resolved it,
  // or on an admission thread, never on the caller's (a BEAM scheduler); that wait comes out of
  // the call's own time.
  void admit_then_run(std::shared_ptr<ServiceCall> call, bool may_wait) {
    if (auto known = admission->known(call->request)) return admitted(std::move(call), std::move(*known), {});
    const auto posted = std::chrono::steady_clock::now();
    if (may_wait) {
      Status verdict = admission->admit(call->request);
      return admitted(std::move(call), std::move(verdict), posted);
    }
    bool queued = admitters->post([this, call, posted](bool run) {
      if (!run) return call->done(make_error(ErrorCode::unavailable, "the service stopped before the kernel was admitted"));
      admitted(call, admission->admit(call->request), posted);
    });
    if (!queued) {
      Error full = make_error(ErrorCode::unavailable, "too many new kernels are waiting for admission (" +
                                                          std::to_string(options.fetch_queue) + "); try again shortly");
      full.retry_after = std::chrono::seconds(1);
      call->done(std::move(full));
    }
  }
  void admitted(std::shared_ptr<ServiceCall> call, Status verdict, std::optional<std::chrono::steady_clock::time_point> since) {
    if (!verdict) return call->done(verdict.take_error());
    if (since) {
      const CallTimeout time = call_timeout(options.devices.executor, call->request.timeout);
      const auto waited = std::chrono::ceil<std::chrono::milliseconds>(std::chrono::steady_clock::now() - *since);
      if (waited >= time.timeout)
        return call->done(make_error(ErrorCode::timeout, "the call's deadline passed while its kernel was admitted"));
      if (waited.count() > 0) call->request.timeout = time.timeout - waited;
    }
    devices->submit(call->request, [call](Result<OutputView> output) { call->done(std::move(output)); });
  }
};

Service::Service(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Service::~Service() = default;

Result<std::unique_ptr<Service>> Service::create(ServiceOptions options) {
  try {
    if (Status trust = options.trust.validate(); !trust) return trust.take_error();
    if (options.fetch_threads == 0)
      return make_error(ErrorCode::invalid_argument, "fetch_threads must be at least 1");
    if (options.sandbox_threads == 0)
      return make_error(ErrorCode::invalid_argument, "sandbox_threads must be at least 1");
    auto impl = std::make_unique<Impl>();
    impl->options = options;
    auto store = KernelStore::create(options.store);
    if (!store) return store.take_error();
    impl->store = std::move(store).value();
    auto devices = worker::open_devices(options.worker, options.devices);
    if (!devices) return devices.take_error();
    impl->devices = std::move(devices).value();
    impl->trust = std::make_shared<const TrustPolicy>(options.trust);
    KernelAdmissionOptions sandbox = options.sandbox;
    sandbox.adapter = options.devices.adapters.empty() ? "" : options.devices.adapters.front();
    sandbox.executor = options.devices.executor;
    auto admission = KernelAdmission::create(std::move(sandbox));
    if (!admission) return admission.take_error();
    impl->admission = std::move(admission).value();
    impl->admitters = std::make_unique<service::FetchThreads>(options.sandbox_threads, options.fetch_queue);
    impl->fetchers = std::make_unique<service::FetchThreads>(options.fetch_threads, options.fetch_queue);
    return std::unique_ptr<Service>(new Service(std::move(impl)));
  } catch (const std::exception& e) {
    return internal_error("cannot create the service", e);
  }
}

void Service::submit(KernelRef kernel, KernelRequest request, Completion done) {
  Impl& impl = *impl_;
  try {
    // An ID or a file is kept for the fetch threads; only an inline source moves.
    const bool keep = kernel.kind != KernelRef::Kind::inline_source;
    if (auto at_hand = impl.store->resolve_at_hand(keep ? kernel : std::move(kernel)))
      return impl.start(std::move(*at_hand), std::move(request), std::move(done), false);
    // Shared so that a job the queue refuses leaves `done` with us to report that.
    auto waiting = std::make_shared<std::pair<KernelRequest, Completion>>(std::move(request), std::move(done));
    bool queued = impl.fetchers->post([&impl, kernel = std::move(kernel), waiting](bool run) {
      if (!run)
        return waiting->second(make_error(ErrorCode::unavailable, "the service stopped before the kernel was resolved"));
      impl.start(impl.store->resolve(kernel), std::move(waiting->first), std::move(waiting->second), true);
    });
    if (!queued) {
      Error full = make_error(ErrorCode::unavailable, "too many kernels are being fetched (" +
                                                          std::to_string(impl.options.fetch_queue) +
                                                          " waiting); try again shortly");
      // How long the queue takes to drain is the gateways' business: a second, as the HTTP
      // endpoint's own refusals say.
      full.retry_after = std::chrono::seconds(1);
      waiting->second(std::move(full));
    }
  } catch (const std::exception& e) {
    if (done) done(internal_error("could not queue the call", e));
  }
}

Result<std::vector<uint8_t>> Service::run(KernelRef kernel, KernelRequest request) {
  std::promise<Result<std::vector<uint8_t>>> promise;
  auto future = promise.get_future();
  request.output_into = nullptr;
  submit(std::move(kernel), std::move(request), [&promise](Result<OutputView> out) {
    try {
      if (out) promise.set_value(std::vector<uint8_t>(out->begin(), out->end()));
      else promise.set_value(out.take_error());
    } catch (const std::exception& e) {
      promise.set_value(internal_error("could not copy the output", e));
    }
  });
  return future.get();
}

Result<Reflection> Service::check(const KernelRef& kernel, std::string_view entry) {
  auto resolved = resolve(kernel);
  if (!resolved) return resolved.take_error();
  // Metered, as the devices' check compiles it.
  KernelRequest request;
  request.source = resolved->source;
  request.entry = std::string(entry);
  if (Status admitted = impl_->admission->admit(request); !admitted) return admitted.take_error();
  return impl_->devices->check(resolved->source, entry);
}

Result<ResolvedKernel> Service::resolve(const KernelRef& kernel) { return impl_->store->resolve(kernel); }

Status Service::set_trust(TrustPolicy trust) {
  if (Status valid = trust.validate(); !valid) return valid;
  try {
    auto next = std::make_shared<const TrustPolicy>(std::move(trust));
    std::lock_guard lock(impl_->trust_mutex);
    impl_->trust = std::move(next);
    return {};
  } catch (const std::exception& e) {
    return internal_error("cannot change the trust policy", e);
  }
}

std::string Service::adapter_info_json() const {
  return service::adapter_report_json(impl_->devices->adapter_info_json(), impl_->devices->worker_stats());
}
ExecutorPool::Stats Service::stats() const { return impl_->devices->stats(); }
WorkerStats Service::worker_stats() const { return impl_->devices->worker_stats(); }
size_t Service::device_count() const { return impl_->devices->size(); }
KernelAdmission::Stats Service::admission_stats() const { return impl_->admission->stats(); }
const ServiceOptions& Service::options() const { return impl_->options; }
void Service::simulate_device_loss(size_t index) { impl_->devices->simulate_device_loss(index); }
void Service::kill_worker() { impl_->devices->kill_worker(); }

}  // namespace kem
