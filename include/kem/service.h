// kem::Service: the one way every front end (the kem CLI, the Erlang NIF and through it the
// HTTP endpoint and HyperBEAM's dev_kem) reaches the GPUs. It owns the kernel store, the
// devices (an ExecutorPool over every usable GPU unless adapters are configured), the trust
// policy and every default (ServiceOptions; the settings table in kem/settings.h names them).
//
// A call names its kernel by reference (ID, file or inline source); the service resolves it,
// decides whether it runs metered, and runs it on the least loaded device. Kernels at hand (an
// inline source, a pin, the memory cache) start on the calling thread; the rest are resolved on
// the service's own fetch threads, so a caller that must not block (a BEAM scheduler) never
// waits on a gateway. See docs/ARCHITECTURE.md for the threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kem/executor.h"
#include "kem/executor_pool.h"
#include "kem/kernel_admission.h"
#include "kem/kernel_request.h"
#include "kem/kernel_store.h"
#include "kem/trust_policy.h"
#include "kem/worker_options.h"

namespace kem {

struct ServiceOptions {
  // The devices. `devices.adapters` empty: every GPU of the machine, or the default adapter
  // when there is none; devices.executor.adapter is not used.
  ExecutorPoolOptions devices;
  // Where the devices run: in a supervised GPU worker process by default (kem/worker_options.h).
  WorkerOptions worker;
  StoreOptions store;
  TrustPolicy trust;
  // Threads that resolve kernels which are not at hand (gateway fetches, disk cache, files),
  // and how many such resolutions may wait for one; past that a call fails with unavailable.
  size_t fetch_threads = 4;
  size_t fetch_queue = 1024;
  // Admission of new kernels: a kernel's first compile runs in a sandbox process with limits,
  // and only admitted kernels reach the devices (kem/kernel_admission.h). Its adapter and
  // metering are the devices' (the first of `devices.adapters`); what is set here is ignored.
  KernelAdmissionOptions sandbox;
  // Threads that wait for new kernels' sandbox runs when the kernel was at hand (a kernel
  // resolved on a fetch thread is admitted there): their own, so that a slow gateway holding
  // every fetch thread never holds up a new inline kernel. At most this many such runs at once.
  size_t sandbox_threads = 2;
  // For front ends that wait for a reply message (the NIF's callers): how long past a call's
  // deadline they keep waiting before they give up on it.
  std::chrono::milliseconds reply_margin{2000};
};

class Service {
 public:
  // Checks the options, creates the store and every device.
  static Result<std::unique_ptr<Service>> create(ServiceOptions options);
  // Fails the calls still waiting for their kernel (unavailable), joins the fetch threads, then
  // waits for the calls on the devices (each has a deadline) and closes them.
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Runs `request` with the kernel `kernel` names. The service sets request.source and
  // request.unmetered (from the trust policy; what the caller put there is ignored). What
  // request's views point to must stay valid until `done` ran. `done` runs exactly once: on a
  // GPU thread, on a fetch thread (a kernel that could not be resolved), or on the calling
  // thread for a call refused before it was queued.
  void submit(KernelRef kernel, KernelRequest request, Completion done);

  // submit() and wait.
  Result<std::vector<uint8_t>> run(KernelRef kernel, KernelRequest request);

  // Resolves and compiles the kernel (admitted first, as a call's would be); its reflection, or
  // the compile error ("LINE:COL: ...") or refusal.
  Result<Reflection> check(const KernelRef& kernel, std::string_view entry = "main");

  // The store's answer for `kernel` (source and provenance), waiting on gateways if need be.
  Result<ResolvedKernel> resolve(const KernelRef& kernel);

  // Replaces the trust policy for calls submitted from now on (allow-lists edited at run time).
  Status set_trust(TrustPolicy trust);

  // The first device's adapter description (as Executor::adapter_info_json) with, in
  // "devices", every device's adapter, load, health and counters, and their sum in "total".
  std::string adapter_info_json() const;
  ExecutorPool::Stats stats() const;
  // The GPU worker processes: which one runs, how many ended and how, the last recovery time.
  WorkerStats worker_stats() const;
  KernelAdmission::Stats admission_stats() const;
  size_t device_count() const;

  const ServiceOptions& options() const;

  // Test hook: destroys device `index` as a driver crash would (ExecutorPool::simulate_device_loss).
  void simulate_device_loss(size_t index);
  // Test hook: SIGKILL the GPU worker process, as the OOM killer would (nothing when the devices
  // are not isolated).
  void kill_worker();

 private:
  struct Impl;
  explicit Service(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kem
