#include "kem/executor.h"

#include <condition_variable>
#include <cstdlib>
#include <atomic>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <span>
#include <thread>

#include "executor/adapter_info.h"
#include "executor/session/admission.h"
#include "executor/session/gpu_session.h"
#include "executor/session/huge_pages.h"
#include "executor/session/pending_call.h"
#include "executor/session_retirement.h"
#include "webgpu/instance.h"

namespace kem {

using executor::GpuSession;
using executor::PendingCall;
using gpu::Clock;

// The threading model is written down in kem/executor.h; in short: whoever holds `gpu_mutex`
// drives the device (the session and everything in it), `mutex` guards the job queue, and the
// GPU thread and the retirement thread are started and joined by Impl.
struct Executor::Impl {
  ExecutorOptions options;
  std::shared_ptr<gpu::Instance> instance;
  gpu::Adapter adapter;
  std::string info_json;
  std::unique_ptr<GpuSession> session;  // under gpu_mutex (before the GPU thread starts, after it ends)

  std::mutex mutex;
  std::condition_variable wake;
  // A job is either a kernel call (batched with the calls queued next to it) or a task.
  struct Job {
    std::optional<PendingCall> call;
    std::function<void()> task;
  };
  std::deque<Job> jobs;
  bool stopping = false;
  std::thread gpu_thread;
  // How long the GPU thread, out of work, keeps looking for the next job before it sleeps on
  // `wake`: a caller submitting right after its previous answer (a NIF, a client in a loop)
  // then finds it awake, saving a thread wake-up per call. Same policy as the map wait
  // (ExecutorOptions::spin_wait).
  std::chrono::nanoseconds idle_spin{0};
  std::atomic<uint64_t> posts{0};  // jobs ever posted: what the polling GPU thread watches
  // The session has kernels compiling (GpuSession::compiling): the GPU thread then looks every
  // kCompilePoll instead of sleeping until the next job. Written under `mutex` (with gpu_mutex
  // held) so that a sleeping GPU thread cannot miss it.
  std::atomic<bool> compiling{false};
  static constexpr auto kCompilePoll = std::chrono::milliseconds(1);

  executor::Counters counters;
  std::atomic<size_t> depth{0};         // calls queued or running
  // Held by whoever drives the device: the GPU thread, or a run() caller that found the queue
  // empty and runs its call itself (saving two thread hand-offs on an idle executor). Taken
  // before `mutex` when both are held, never after.
  std::mutex gpu_mutex;
  // Destroys lost and abandoned sessions off the driving thread. Declared after everything a
  // session refers to (options, instance, counters), so its destructor joins that thread before
  // any of them goes.
  executor::SessionRetirement retirement;

  // Stops the GPU thread once everything queued has run, and joins it.
  ~Impl() {
    {
      std::lock_guard lock(mutex);
      stopping = true;
    }
    wake.notify_all();
    if (gpu_thread.joinable()) gpu_thread.join();
  }

  // A call with its deadline and a completion that keeps the counters.
  Result<PendingCall> make_call(KernelRequest request, Completion done) {
    if (request.timeout && request.timeout->count() <= 0)
      return make_error(ErrorCode::invalid_argument, "timeout must be positive");
    const CallTimeout timeout = call_timeout(options, request.timeout);
    const auto now = Clock::now();
    uint64_t key = 0;
    std::chrono::nanoseconds estimate{0};
    if (options.admission) {
      // Refused here, on the caller's thread, when the work already admitted leaves no room.
      key = executor::service_key(request, options.metering && !request.unmetered);
      estimate = counters.load.times.estimate(key);
      if (Status admitted = executor::admit(counters.load.expected_wait(now), estimate, timeout.timeout, timeout.timeout);
          !admitted) {
        ++counters.refused;
        return admitted.take_error();
      }
    }
    // Counted before the caller's completion runs, so a caller that has its result sees it counted.
    auto counted = [this, estimate, done = std::move(done)](Result<OutputView> out) {
      ++counters.calls;
      if (!out) ++counters.errors;
      counters.load.backlog_ns -= estimate.count();
      --depth;
      done(std::move(out));
    };
    counters.load.backlog_ns += estimate.count();
    ++depth;
    return PendingCall{std::move(request), now + timeout.timeout, std::move(counted), timeout, key, estimate};
  }

  // The direct-call fast path: runs the call on the calling thread when the device is free and
  // nothing is queued; false (and `call` untouched) otherwise. The caller then drives the device
  // under gpu_mutex exactly as the GPU thread would, which stays blocked on gpu_mutex meanwhile.
  bool run_directly(PendingCall& call) {
    // Only when this is the one call in flight: under load, queued calls batch better.
    if (depth.load() != 1) return false;
    std::unique_lock gpu(gpu_mutex, std::try_to_lock);
    if (!gpu.owns_lock()) return false;
    {
      std::lock_guard lock(mutex);
      if (!jobs.empty() || stopping) return false;
    }
    std::vector<PendingCall> one;
    one.push_back(std::move(call));
    run_calls(one);
    device_ok = session && session->healthy();
    return true;
  }
  std::atomic<bool> device_ok{true};    // mirrors session->healthy() after every job

  void post(Job job) {
    {
      std::lock_guard lock(mutex);
      jobs.push_back(std::move(job));
    }
    posts.fetch_add(1, std::memory_order_release);
    wake.notify_one();
  }

  // With `lock` held and the queue empty: polls for a post for up to idle_spin, lock released.
  void poll_for_work(std::unique_lock<std::mutex>& lock) {
    if (idle_spin.count() <= 0 || stopping || !jobs.empty()) return;
    const uint64_t seen = posts.load(std::memory_order_acquire);
    lock.unlock();
    const auto until = Clock::now() + idle_spin;
    while (posts.load(std::memory_order_acquire) == seen && Clock::now() < until) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
    lock.lock();
  }
  void post(std::function<void()> task) { post(Job{std::nullopt, std::move(task)}); }

  void loop() {
    std::vector<PendingCall> calls;
    for (;;) {
      std::function<void()> task;
      calls.clear();
      {
        std::unique_lock lock(mutex);
        poll_for_work(lock);
        auto has_work = [&] { return stopping || !jobs.empty(); };
        if (compiling) wake.wait_for(lock, kCompilePoll, has_work);
        else wake.wait(lock, [&] { return has_work() || compiling; });
        // Stopping, everything queued has run, and no call waits for a compile.
        if (jobs.empty() && stopping && !compiling) return;
        // All the calls queued at the front go together; a task runs alone, in queue order.
        while (!jobs.empty() && jobs.front().call) {
          calls.push_back(std::move(*jobs.front().call));
          jobs.pop_front();
        }
        if (calls.empty() && !jobs.empty()) {
          task = std::move(jobs.front().task);
          jobs.pop_front();
        }
      }
      std::lock_guard gpu(gpu_mutex);
      if (task) task();
      else if (!calls.empty()) run_calls(calls);
      poll_compiles(std::chrono::nanoseconds(0));
      device_ok = session && session->healthy();
    }
  }

  // A usable session, replacing one that was lost or abandoned.
  Result<GpuSession*> ready_session() {
    if (session && session->healthy()) return session.get();
    if (session) {
      ++counters.device_losses;
      for (PendingCall& c : session->take_parked())
        c.answer(make_error(ErrorCode::device_lost, "the device was replaced while this call's kernel compiled"));
      retirement.retire(std::move(session));
    }
    auto fresh = GpuSession::create(*instance, adapter, options, counters);
    if (!fresh) return fresh.take_error();
    session = std::move(fresh).value();
    return session.get();
  }

  // Answers queued calls whose deadline passed; returns the earliest deadline still queued. Runs
  // on the driving thread (gpu_mutex held), so those completions run there too.
  const executor::QueueExpiry expire_queued = [this] {
    std::vector<PendingCall> expired;
    Clock::time_point next = Clock::time_point::max();
    const auto now = Clock::now();
    {
      std::lock_guard lock(mutex);
      for (auto it = jobs.begin(); it != jobs.end();) {
        if (it->call && it->call->deadline <= now) {
          expired.push_back(std::move(*it->call));
          it = jobs.erase(it);
        } else {
          if (it->call) next = std::min(next, it->call->deadline);
          ++it;
        }
      }
    }
    for (PendingCall& c : expired)
      c.answer(c.deadline_error("the call waited in the queue past its deadline"));
    return next;
  };

  // With gpu_mutex held: tells the GPU thread whether to keep looking at compiles.
  void note_compiling() {
    // An abandoned session's compiles are nobody's: not looked at again (the session is
    // replaced at the next call).
    const bool now = session && session->compiling() && !session->abandoned();
    if (now == compiling.load()) return;
    {
      std::lock_guard lock(mutex);
      compiling = now;
    }
    if (now) wake.notify_one();
  }

  // With gpu_mutex held: the calls whose kernel finished compiling run now.
  void poll_compiles(std::chrono::nanoseconds wait) {
    if (session && session->compiling() && !session->abandoned()) {
      std::vector<PendingCall> ready;
      try {
        ready = session->poll_compiles(wait);
      } catch (const std::exception& e) {
        for (PendingCall& c : session->take_parked())
          c.answer(make_error(ErrorCode::internal, std::string("executor failure: ") + e.what()));
      }
      if (!ready.empty()) run_calls(ready);
      else if (session->abandoned() && options.on_device_abandoned) options.on_device_abandoned();
    }
    note_compiling();
  }

  void run_calls(std::vector<PendingCall>& calls) {
    std::span<PendingCall> left(calls);
    try {
      while (!left.empty()) {
        auto s = ready_session();
        if (!s) {
          for (PendingCall& c : left) c.answer(s.error());
          return;
        }
        left = left.subspan((*s)->run_calls(left, expire_queued));
        if ((*s)->abandoned() && options.on_device_abandoned) options.on_device_abandoned();
      }
    } catch (const std::exception& e) {
      // Allocation, or a caller's output_into, can throw here: every call not yet answered gets
      // the error.
      for (PendingCall& c : left) c.answer(make_error(ErrorCode::internal, std::string("executor failure: ") + e.what()));
    }
    note_compiling();
  }
};

namespace {

// A default above the cap would silently be cut to it: refuse it instead.
Status check_timeouts(const ExecutorOptions& o) {
  if (o.default_timeout.count() <= 0 || o.max_timeout.count() <= 0)
    return make_error(ErrorCode::invalid_argument, "default_timeout and max_timeout must be positive");
  if (o.default_timeout > o.max_timeout)
    return make_error(ErrorCode::invalid_argument, "default_timeout (" + std::to_string(o.default_timeout.count()) +
                                                       " ms) is above max_timeout (" +
                                                       std::to_string(o.max_timeout.count()) + " ms)");
  return {};
}

}  // namespace

Executor::Executor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

// Impl's destructor joins the GPU thread (after the queue drained), then the retirement thread.
Executor::~Executor() = default;

Result<std::unique_ptr<Executor>> Executor::create(ExecutorOptions options) {
  try {
    if (const char* env = std::getenv("KEM_ADAPTER"); env && *env) options.adapter = env;
    if (Status timeouts = check_timeouts(options); !timeouts) return timeouts.take_error();
    auto impl = std::make_unique<Impl>();
    impl->options = std::move(options);
    auto instance = gpu::Instance::create();
    if (!instance) return instance.take_error();
    impl->instance = std::move(instance).value();
    auto adapter = impl->instance->request_adapter(impl->options.adapter);
    if (!adapter) return adapter.take_error();
    impl->adapter = std::move(adapter).value();
    impl->info_json = executor::adapter_info_json(impl->adapter);
    impl->idle_spin = impl->options.spin_wait.value_or(impl->adapter.description.adapter_type == "cpu"
                                                            ? std::chrono::microseconds(0)
                                                            : std::chrono::microseconds(100));
    auto session = GpuSession::create(*impl->instance, impl->adapter, impl->options, impl->counters);
    if (!session) return session.take_error();
    impl->session = std::move(session).value();
    Impl* raw = impl.get();
    impl->gpu_thread = std::thread([raw] { raw->loop(); });
    return std::unique_ptr<Executor>(new Executor(std::move(impl)));
  } catch (const std::exception& e) {
    return make_error(ErrorCode::internal, std::string("executor creation failed: ") + e.what());
  }
}

void Executor::submit(const KernelRequest& request, Completion done) {
  try {
    auto call = impl_->make_call(request, done);
    if (!call) return done(call.take_error());
    impl_->post(Impl::Job{std::move(call).value(), {}});
  } catch (const std::exception& e) {
    done(make_error(ErrorCode::internal, std::string("could not queue the call: ") + e.what()));
  }
}

Result<std::vector<uint8_t>> Executor::run(const KernelRequest& request) {
  std::optional<Result<std::vector<uint8_t>>> result;
  std::promise<void> finished;
  // The output goes straight into the vector returned (no second copy of a large output).
  std::vector<uint8_t> output;
  KernelRequest into = request;
  into.output_into = [&output](uint64_t bytes) {
    output.reserve(bytes);
    executor::advise_huge_pages(output.data(), bytes);  // before resize() faults the pages in
    output.resize(bytes);
    return output.data();
  };
  try {
    auto call = impl_->make_call(std::move(into), [&](Result<OutputView> out) {
      if (out) result.emplace(std::move(output));
      else result.emplace(out.take_error());
      finished.set_value();
    });
    if (!call) return call.take_error();
    if (!impl_->options.direct_calls || !impl_->run_directly(*call)) impl_->post(Impl::Job{std::move(call).value(), {}});
    finished.get_future().wait();
    return std::move(*result);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::internal, std::string("executor failure: ") + e.what());
  }
}

Result<Reflection> Executor::check(std::string_view source, std::string_view entry) {
  std::promise<Result<Reflection>> promise;
  auto future = promise.get_future();
  impl_->post([&] {
    try {
      auto s = impl_->ready_session();
      if (!s) return promise.set_value(s.take_error());
      auto k = (*s)->kernel(source, entry, impl_->options.metering);
      if (!k) return promise.set_value(k.take_error());
      promise.set_value((*k)->reflection);
    } catch (const std::exception& e) {
      promise.set_value(make_error(ErrorCode::internal, e.what()));
    }
  });
  return future.get();
}

Status Executor::compile(const KernelRequest& request) {
  std::promise<Status> promise;
  auto future = promise.get_future();
  impl_->post([&] {
    try {
      auto s = impl_->ready_session();
      if (!s) return promise.set_value(s.take_error());
      const bool metered = impl_->options.metering && !request.unmetered;
      auto k = (*s)->kernel(request.source, request.entry, metered, request.overrides);
      promise.set_value(k ? Status{} : Status(k.take_error()));
    } catch (const std::exception& e) {
      promise.set_value(make_error(ErrorCode::internal, e.what()));
    }
  });
  return future.get();
}

size_t Executor::queue_depth() const { return impl_->depth; }

bool Executor::healthy() const { return impl_->device_ok; }

Status Executor::reconnect() {
  std::promise<Status> promise;
  auto future = promise.get_future();
  impl_->post([&] {
    try {
      auto s = impl_->ready_session();
      // Refreshed before reconnect() returns (not only after the task, as for every job), so
      // healthy() already tells the caller what reconnect() did.
      impl_->device_ok = s && (*s)->healthy();
      promise.set_value(s ? Status{} : Status(s.take_error()));
    } catch (const std::exception& e) {
      promise.set_value(make_error(ErrorCode::internal, e.what()));
    }
  });
  return future.get();
}

std::string Executor::adapter_info_json() const { return impl_->info_json; }

void Executor::simulate_device_loss() {
  std::promise<void> done;
  impl_->post([&] {
    if (impl_->session) impl_->session->device().destroy();
    done.set_value();
  });
  done.get_future().wait();
}

Executor::Stats Executor::stats() const {
  Stats s;
  const auto& c = impl_->counters;
  s.calls = c.calls;
  s.errors = c.errors;
  s.pipeline_hits = c.pipeline_hits;
  s.pipeline_misses = c.pipeline_misses;
  s.device_losses = c.device_losses;
  s.submissions = c.submissions;
  s.refused = c.refused;
  return s;
}

}  // namespace kem
