// The service: resolve (at hand, or on a fetch thread), decide trust, run on the pool.
#include "kem/service.h"

#include <future>
#include <mutex>

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
  // Declared last: destroyed first, so no fetch thread runs against a destroyed pool or store.
  std::unique_ptr<service::FetchThreads> fetchers;

  std::shared_ptr<const TrustPolicy> current_trust() const {
    std::lock_guard lock(trust_mutex);
    return trust;
  }

  // Runs a resolved call on the pool; reports a resolution error through `done`.
  void start(Result<ResolvedKernel> resolved, KernelRequest request, Completion done) {
    if (!resolved) return done(resolved.take_error());
    std::shared_ptr<ServiceCall> call;
    try {
      call = std::make_shared<ServiceCall>(ServiceCall{std::move(resolved).value(), std::move(request), std::move(done)});
    } catch (const std::exception& e) {
      return done(internal_error("could not queue the call", e));
    }
    call->request.source = call->kernel.source;
    call->request.unmetered = !call->kernel.id.empty() && current_trust()->unmetered(call->kernel);
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
    auto impl = std::make_unique<Impl>();
    impl->options = options;
    auto store = KernelStore::create(options.store);
    if (!store) return store.take_error();
    impl->store = std::move(store).value();
    auto devices = worker::open_devices(options.worker, options.devices);
    if (!devices) return devices.take_error();
    impl->devices = std::move(devices).value();
    impl->trust = std::make_shared<const TrustPolicy>(options.trust);
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
      return impl.start(std::move(*at_hand), std::move(request), std::move(done));
    // Shared so that a job the queue refuses leaves `done` with us to report that.
    auto waiting = std::make_shared<std::pair<KernelRequest, Completion>>(std::move(request), std::move(done));
    bool queued = impl.fetchers->post([&impl, kernel = std::move(kernel), waiting](bool run) {
      if (!run)
        return waiting->second(make_error(ErrorCode::unavailable, "the service stopped before the kernel was resolved"));
      impl.start(impl.store->resolve(kernel), std::move(waiting->first), std::move(waiting->second));
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
const ServiceOptions& Service::options() const { return impl_->options; }
void Service::simulate_device_loss(size_t index) { impl_->devices->simulate_device_loss(index); }
void Service::kill_worker() { impl_->devices->kill_worker(); }

}  // namespace kem
