#include "worker/worker_devices.h"

#include <signal.h>

#include <algorithm>
#include <cstring>
#include <future>
#include <optional>

#include "kem/reflection.h"
#include "worker/protocol.h"

namespace kem::worker {
// A call between its submission and its reply: what its message is rebuilt from when it moves
// to a successor worker (the request's views stay valid until `done` ran).
struct ParentCall {
  Completion done;
  std::function<uint8_t*(uint64_t)> output_into;
  TransferArenas::Lease lease;
  Placement output;
  CallMessage message;
  std::string_view source;
  std::chrono::steady_clock::time_point deadline;
  bool moved = false;  // sent on once already: a call moves at most once
  bool proven = false;  // its kernel is known to have run to a result
};

namespace {

using Clock = std::chrono::steady_clock;

// Inputs and outputs up to this size travel inside the messages; larger ones in an arena.
constexpr uint64_t kInlineBytes = 32 << 10;
constexpr std::chrono::milliseconds kAskTimeout{10000};
// How long a kernel that crashed a worker is refused (WorkerDevices::strikes_).
constexpr std::chrono::minutes kCrashQuarantine{10};

uint64_t align64(uint64_t v) { return (v + 63) / 64 * 64; }

void add(Executor::Stats& into, const Executor::Stats& from) {
  into.calls += from.calls;
  into.errors += from.errors;
  into.pipeline_hits += from.pipeline_hits;
  into.pipeline_misses += from.pipeline_misses;
  into.device_losses += from.device_losses;
  into.submissions += from.submissions;
  into.refused += from.refused;
}

void add(ExecutorPool::Stats& into, const ExecutorPool::Stats& from) {
  if (into.devices.size() < from.devices.size()) into.devices.resize(from.devices.size());
  for (size_t i = 0; i < from.devices.size(); ++i) {
    add(into.devices[i].executor, from.devices[i].executor);
    into.devices[i].retried_elsewhere += from.devices[i].retried_elsewhere;
    into.devices[i].removals += from.devices[i].removals;
  }
  add(into.total, from.total);
  into.retries += from.retries;
}

template <class Copy>
void complete(ParentCall& call, Result<Reader*> reply, const Copy& copy) {
  if (!reply) return call.done(reply.take_error());
  Reader& r = **reply;
  std::span<const uint8_t> view;
  if (r.boolean()) {
    const uint64_t n = r.u64();
    if (!call.lease || n > call.output.size)
      return call.done(make_error(ErrorCode::internal, "the GPU worker reported an output larger than its room"));
    view = {call.lease->memory->data() + call.output.offset, n};
  } else {
    view = r.bytes();
  }
  if (r.failed()) return call.done(make_error(ErrorCode::internal, "a malformed reply from the GPU worker"));
  if (call.output_into) {
    uint8_t* into = nullptr;
    try {
      into = call.output_into(view.size());
    } catch (const std::exception& e) {
      return call.done(make_error(ErrorCode::internal, std::string("the output's destination failed: ") + e.what()));
    }
    if (!into)
      return call.done(make_error(ErrorCode::limit_exceeded, "no memory for an output of " +
                                                                 std::to_string(view.size()) + " bytes"));
    copy(into, view.data(), view.size());
    view = {into, view.size()};
  }
  call.done(view);
}

}  // namespace

WorkerDevices::WorkerDevices(const WorkerOptions& options, const ExecutorPoolOptions& devices, std::string program)
    : options_(options),
      devices_(devices),
      program_(std::move(program)),
      kernels_(4096, 256u << 20),
      arenas_(options.transfer_cache_bytes,
              [this](uint64_t id) { forget_everywhere(Kind::forget_arena, &WorkerLink::arenas_sent, id); }) {}

void WorkerDevices::forget_everywhere(Kind kind, std::unordered_set<uint64_t>& (WorkerLink::*sent)(), uint64_t id) {
  std::vector<std::shared_ptr<WorkerLink>> links;
  {
    std::lock_guard lock(mutex_);
    links = links_;
  }
  for (const auto& link : links) {
    std::lock_guard sent_lock(link->sent_mutex());
    if (((*link).*sent)().erase(id)) {
      Writer w = message(kind);
      w.u64(id);
      (void)link->notify(w);
    }
  }
}

Result<std::unique_ptr<Devices>> WorkerDevices::create(const WorkerOptions& options, const ExecutorPoolOptions& devices) {
  std::string program = options.program;
  if (program.empty()) {
    auto found = process::find_helper_program("kem-gpu-worker", "KEM_GPU_WORKER");
    if (!found) return found.take_error();
    program = std::move(found).value();
  }
  std::unique_ptr<WorkerDevices> d(new WorkerDevices(options, devices, std::move(program)));
  // Workers are started by the supervisor thread only: PR_SET_PDEATHSIG kills a child when the
  // *thread* that started it ends, and the supervisor lives as long as the devices.
  d->restart_wanted_ = true;
  d->supervisor_ = std::thread([raw = d.get()] { raw->supervise(); });
  std::shared_ptr<WorkerLink> link;
  {
    std::unique_lock lock(d->mutex_);
    d->wake_.wait(lock, [&] { return d->current_ || !d->last_start_error_.empty(); });
    if (!d->current_) return make_error(ErrorCode::internal, d->last_start_error_);
    link = d->current_;
  }
  auto ready = link->wait_ready(options.start_timeout);
  if (!ready) return ready.take_error();  // ~WorkerDevices ends the worker
  d->device_count_ = *ready;
  return std::unique_ptr<Devices>(std::move(d));
}

WorkerDevices::~WorkerDevices() {
  std::shared_ptr<WorkerLink> last;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    last = current_;
  }
  // The calls in flight have deadlines (past them the watchdog ends the worker anyway); once
  // they are answered the worker is killed, not asked to exit: it keeps nothing worth a clean
  // exit, and a device still busy with abandoned work must not hold up the service's end.
  if (last) {
    last->drain();
    last->wait_ended(devices_.executor.max_timeout + options_.grace + std::chrono::seconds(1));
  }
  wake_.notify_all();
  if (supervisor_.joinable()) supervisor_.join();
  // The last links are destroyed here, while every member their reader threads touch (on_ended,
  // the handlers) is still alive: destroying one joins its reader.
  std::vector<std::shared_ptr<WorkerLink>> rest;
  {
    std::lock_guard lock(mutex_);
    rest = std::move(links_);
    rest.push_back(std::move(current_));
    rest.push_back(std::move(to_replace_));
  }
  rest.clear();
}

// Under mutex_.
Result<std::shared_ptr<WorkerLink>> WorkerDevices::start_link() {
  WorkerLink::Events events{[this](WorkerLink& l) { on_ended(l); }, [this](WorkerLink& l) { on_abandoned(l); }};
  auto link = WorkerLink::start(program_, devices_, options_.grace, std::move(events));
  if (!link) return link.take_error();
  std::shared_ptr<WorkerLink> shared(std::move(link).value());
  links_.push_back(shared);
  ++worker_stats_.starts;
  return shared;
}

std::shared_ptr<WorkerLink> WorkerDevices::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

void WorkerDevices::on_ended(WorkerLink& link) {
  std::lock_guard lock(mutex_);
  worker_stats_.last_end = "pid " + std::to_string(link.pid()) + " " + link.ended_how();
  worker_stats_.calls_lost += link.lost();
  // Strikes: the suspects are the kernels in flight when a worker died that never ran to a
  // result (a kernel that has is not what crashed the compiler). The only suspect, or one
  // suspected at two deaths, is refused for kCrashQuarantine. A worker killed on purpose (the
  // watchdog, a replacement, the service closing) gives no strike.
  if (!stopping_ && !link.replaced() && link.ended_how().find("watchdog") == std::string::npos) {
    std::vector<uint64_t> suspects = link.lost_kernels();
    std::erase_if(suspects, [&](uint64_t k) { return proven_.count(k) > 0; });
    const bool alone = !suspects.empty() &&
                       std::all_of(suspects.begin(), suspects.end(), [&](uint64_t k) { return k == suspects[0]; });
    for (uint64_t k : suspects) {
      Strikes& s = strikes_[k];
      if (s.refused_until > Clock::now()) continue;  // counted already (several calls of it)
      ++s.count;
      if (alone || s.count >= 2) {
        s.refused_until = Clock::now() + kCrashQuarantine;
        s.how = link.ended_how();
      }
    }
  }
  if (last_stats_of_ == &link) {
    add(retired_stats_, last_stats_);
    last_stats_of_ = nullptr;
  }
  if (&link == current_.get() && !stopping_) {
    current_.reset();
    worker_stats_.pid = 0;
    if (link.ended_how().find("watchdog") != std::string::npos) ++worker_stats_.watchdog_kills;
    else ++worker_stats_.crashes;
    ended_at_ = Clock::now();
    // A worker that served calls is replaced at once; one that died while starting, after a
    // back-off that doubles up to 5 s (a machine whose driver cannot start is not hammered).
    restart_delay_ = link.ever_ready() ? std::chrono::milliseconds(0)
                                        : std::min(std::chrono::milliseconds(5000),
                                                   std::max(std::chrono::milliseconds(50), restart_delay_ * 2));
    restart_wanted_ = true;
  }
  wake_.notify_all();
}

void WorkerDevices::on_abandoned(WorkerLink& link) {
  std::lock_guard lock(mutex_);
  if (&link != current_.get() || stopping_ || to_replace_) return;
  ++worker_stats_.replacements;
  ended_at_ = Clock::now();
  // The supervisor starts the successor, then ends this one: its calls move there.
  to_replace_ = current_;
  restart_delay_ = std::chrono::milliseconds(0);
  restart_wanted_ = true;
  wake_.notify_all();
}

void WorkerDevices::supervise() {
  std::unique_lock lock(mutex_);
  std::shared_ptr<WorkerLink> awaiting;  // a new worker whose recovery time is measured
  // A link is never let go of under mutex_: the last reference joins its reader thread, which
  // may be in on_ended() waiting for mutex_ (a deadlock seen once in CI's HyperBEAM stage).
  auto release_unlocked = [&](std::shared_ptr<WorkerLink>& link) {
    if (!link) return;
    lock.unlock();
    link.reset();
    lock.lock();
  };
  while (true) {
    // Links that ended are destroyed here, off their own reader threads.
    std::vector<std::shared_ptr<WorkerLink>> ended;
    for (auto it = links_.begin(); it != links_.end();) {
      if ((*it != current_ && *it != to_replace_ && !(*it)->alive()) || stopping_) {
        ended.push_back(std::move(*it));
        it = links_.erase(it);
      } else {
        ++it;
      }
    }
    if (!ended.empty()) {
      lock.unlock();
      ended.clear();  // kills what still runs (when stopping), joins the reader threads
      lock.lock();
      continue;
    }
    if (stopping_) {
      lock.unlock();
      awaiting.reset();
      return;
    }
    if (restart_wanted_) {
      if (wake_.wait_until(lock, ended_at_ + restart_delay_, [&] { return stopping_; })) continue;
      restart_wanted_ = false;
      auto next = start_link();
      if (!next) {
        last_start_error_ = next.error().message;
        restart_wanted_ = true;
        restart_delay_ = std::chrono::milliseconds(1000);
        ended_at_ = Clock::now();
        wake_.notify_all();
        continue;
      }
      std::shared_ptr<WorkerLink> old = std::exchange(current_, *next);
      worker_stats_.pid = current_->pid();
      std::shared_ptr<WorkerLink> replaced = std::exchange(to_replace_, nullptr);
      wake_.notify_all();
      release_unlocked(old);
      if (replaced) {
        // Its counters join the service's before it goes (if it answers within 200 ms).
        lock.unlock();
        const uint64_t id = WorkerLink::next_id();
        Writer w = message(Kind::stats, id);
        auto got = std::make_shared<std::promise<ExecutorPool::Stats>>();
        auto stats = got->get_future();
        WorkerLink::Handler keep = [got](Result<Reader*> reply) {
          if (!reply) return;
          auto body = (*reply)->bytes();
          Reader r(body);
          auto s = get_stats(r);
          if (!r.failed()) got->set_value(std::move(s));
        };
        if (!replaced->request(id, w, keep, Clock::now() + kAskTimeout) &&
            stats.wait_for(std::chrono::milliseconds(200)) == std::future_status::ready) {
          std::lock_guard relock(mutex_);
          add(retired_stats_, stats.get());
          if (last_stats_of_ == replaced.get()) last_stats_of_ = nullptr;
        }
        // Not drained: its other calls would wait behind the abandoned work (lavapipe's
        // threads, or the GPU's queue). They move to the successor instead.
        replaced->replace();
        lock.lock();
        release_unlocked(replaced);
      }
      continue;
    }
    if (current_ && current_ != awaiting && worker_stats_.starts > 1) {
      std::shared_ptr<WorkerLink> previous = std::exchange(awaiting, current_);
      const auto since = ended_at_;
      lock.unlock();
      previous.reset();
      auto ready = awaiting->wait_ready(options_.start_timeout);
      lock.lock();
      if (ready) worker_stats_.last_recovery_ms = std::chrono::duration<double, std::milli>(Clock::now() - since).count();
      continue;
    }
    wake_.wait_for(lock, std::chrono::milliseconds(200));
  }
}

void WorkerDevices::copy(uint8_t* dst, const uint8_t* src, size_t size) {
  constexpr size_t kParallelFrom = 8u << 20;
  if (size < kParallelFrom) {
    std::memcpy(dst, src, size);
    return;
  }
  std::lock_guard lock(copy_mutex_);
  if (!copier_) copier_ = std::make_unique<executor::ParallelCopy>(executor::ParallelCopy::default_threads());
  copier_->copy(dst, src, size);
}

void WorkerDevices::send_kernel(WorkerLink& link, uint64_t key, std::string_view source) {
  if (link.kernels_sent().count(key)) return;
  Writer w = message(Kind::add_kernel);
  w.u64(key);
  w.text(source);
  if (link.notify(w)) link.kernels_sent().insert(key);
}

void WorkerDevices::submit(const KernelRequest& q, Completion done) {
  std::shared_ptr<ParentCall> call;  // holds `done` once made: an error then answers through it
  try {
    if (q.input.size() > devices_.executor.max_input_bytes)
      return done(make_error(ErrorCode::limit_exceeded, "input of " + std::to_string(q.input.size()) +
                                                            " bytes is over the maximum of " +
                                                            std::to_string(devices_.executor.max_input_bytes)));
    const uint64_t key = kernels_.key(q.source, [this](uint64_t forgotten) {
      {
        std::lock_guard lock(mutex_);
        strikes_.erase(forgotten);
        proven_.erase(forgotten);
      }
      forget_everywhere(Kind::forget_kernel, &WorkerLink::kernels_sent, forgotten);
    });

    // One lock per call: the worker to send to, and what the service knows of the kernel. An
    // answer found here is given after the lock is let go (a completion may submit again).
    std::shared_ptr<WorkerLink> link;
    bool proven = false;
    std::optional<Error> answer;
    {
      std::unique_lock lock(mutex_);
      // A successor being started (the supervisor does it within milliseconds): wait for it.
      wake_.wait_for(lock, options_.grace,
                     [&] { return current_ || stopping_ || !restart_wanted_ || restart_delay_.count() > 0; });
      link = current_;
      proven = proven_.count(key) > 0;
      if (auto it = strikes_.find(key); it != strikes_.end() && it->second.refused_until > Clock::now()) {
        answer = make_error(ErrorCode::compile_error, "the kernel is refused: the GPU worker process running it ended (" +
                                                          it->second.how + "); it stays refused for " +
                                                          std::to_string(kCrashQuarantine.count()) + " minutes");
      } else if (!link) {
        answer = make_error(ErrorCode::unavailable, "no GPU worker is running (the last one: " + worker_stats_.last_end +
                                                        (last_start_error_.empty() ? "" : "; " + last_start_error_) +
                                                        "); a new one is being started");
        answer->retry_after = std::max(std::chrono::milliseconds(100), restart_delay_);
      }
    }
    if (answer) return done(std::move(*answer));
    // The output's size as the executor will compute it; unknown when the request is invalid
    // (the worker then says why).
    std::optional<uint64_t> out;
    if (q.output_size) out = *q.output_size;
    else if (q.output_size_hint >= 1 && !q.input.empty() &&
             q.output_size_hint <= devices_.executor.max_output_bytes / q.input.size())
      out = q.input.size() * q.output_size_hint;
    if (out && *out > devices_.executor.max_output_bytes) out.reset();

    call = std::make_shared<ParentCall>();
    call->done = std::move(done);
    call->output_into = q.output_into;
    CallMessage m;
    m.kernel = key;
    m.entry = q.entry;
    const uint64_t out_bytes = out.value_or(0);
    const bool big_in = q.input.size() + q.params.size() > kInlineBytes;
    const bool big_out = out_bytes > kInlineBytes;
    if (big_in || big_out) {
      const uint64_t params_at = align64(big_in ? q.input.size() : 0);
      const uint64_t output_at = align64(params_at + (big_in ? q.params.size() : 0));
      auto lease = arenas_.lease(output_at + (big_out ? out_bytes : 0));
      if (!lease) return call->done(lease.take_error());
      call->lease = std::move(lease).value();
      uint8_t* base = call->lease->memory->data();
      if (big_in) {
        copy(base, q.input.data(), q.input.size());
        if (!q.params.empty()) std::memcpy(base + params_at, q.params.data(), q.params.size());
        m.input = {true, call->lease->id, 0, q.input.size()};
        m.params = {true, call->lease->id, params_at, q.params.size()};
      }
      if (big_out) m.output = {true, call->lease->id, output_at, out_bytes};
    }
    if (!big_in) {
      m.inline_input = q.input;
      m.inline_params = q.params;
    }
    call->output = m.output;
    m.output_size_hint = q.output_size_hint;
    m.output_size = q.output_size;
    m.workgroups = q.workgroups;
    m.loop_budget = q.loop_budget;
    m.unmetered = q.unmetered;
    m.overrides = q.overrides;
    call->message = std::move(m);
    call->proven = proven;
    call->source = q.source;
    const CallTimeout timeout = call_timeout(devices_.executor, q.timeout);
    call->deadline = Clock::now() + timeout.timeout;
    call->message.capped = timeout.capped;
    auto sending = std::move(call);  // from here the link (or send_call) answers it
    send_call(sending, std::move(link));
  } catch (const std::exception& e) {
    Completion& answer = call ? call->done : done;
    if (answer) answer(make_error(ErrorCode::internal, std::string("could not send the call to the GPU worker: ") + e.what()));
  }
}

void WorkerDevices::send_call(const std::shared_ptr<ParentCall>& call, std::shared_ptr<WorkerLink> link) {
  const uint64_t id = WorkerLink::next_id();
  Writer w = message(Kind::call, id);
  // The same deadline for a call that moved to a successor: the time left, not its timeout.
  CallMessage& m = call->message;
  m.deadline_ns = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(call->deadline.time_since_epoch()).count());
  put(w, m);
  WorkerLink* raw = link.get();
  WorkerLink::Handler handler = [this, call, raw](Result<Reader*> reply) {
    if (!reply && raw->replaced() && !call->moved) {
      call->moved = true;
      if (call->deadline <= Clock::now())
        return call->done(make_error(ErrorCode::timeout, "the call's deadline passed while it waited behind an abandoned dispatch"));
      if (auto next = current(); next && next.get() != raw) return send_call(call, std::move(next));
    }
    if (reply && !call->proven) {
      call->proven = true;
      std::lock_guard lock(mutex_);
      proven_.insert(call->message.kernel);
    }
    complete(*call, std::move(reply), [this](uint8_t* d, const uint8_t* src, size_t n) { copy(d, src, n); });
  };
  std::optional<Error> unsent;
  // A worker that ended just now takes no request: the call goes to its successor, which
  // on_ended starts before it answers the calls that were in flight.
  for (int attempt = 0; attempt < 2; ++attempt) {
    {
      std::lock_guard sent(link->sent_mutex());
      send_kernel(*link, m.kernel, call->source);
      if (call->lease && !link->arenas_sent().count(call->lease->id)) {
        Writer a = message(Kind::add_arena);
        a.u64(call->lease->id);
        a.u64(call->lease->memory->size());
        if (link->notify(a, call->lease->memory->fd())) link->arenas_sent().insert(call->lease->id);
      }
      unsent = link->request(id, w, handler, call->deadline, -1, m.kernel);
    }
    if (!unsent || link->alive() || attempt == 1) break;
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, options_.grace, [&] { return current_ != link || stopping_; });
    if (!current_ || current_ == link) break;
    link = current_;
  }
  if (unsent) complete(*call, std::move(*unsent), [this](uint8_t* d, const uint8_t* src, size_t n) { copy(d, src, n); });
}

Result<std::vector<uint8_t>> WorkerDevices::ask(Writer& message, uint64_t id, const std::shared_ptr<WorkerLink>& link,
                                                std::chrono::milliseconds timeout) const {
  auto promise = std::make_shared<std::promise<Result<std::vector<uint8_t>>>>();
  auto future = promise->get_future();
  WorkerLink::Handler handler = [promise](Result<Reader*> reply) {
    if (!reply) return promise->set_value(reply.take_error());
    auto body = (*reply)->bytes();
    promise->set_value(std::vector<uint8_t>(body.begin(), body.end()));
  };
  if (auto unsent = link->request(id, message, handler, Clock::now() + timeout)) return *unsent;
  if (future.wait_for(timeout + options_.grace + std::chrono::seconds(1)) != std::future_status::ready)
    return make_error(ErrorCode::timeout, "the GPU worker did not answer");
  return future.get();
}

Result<Reflection> WorkerDevices::check(std::string_view source, std::string_view entry) {
  auto link = current();
  if (!link) return make_error(ErrorCode::unavailable, "no GPU worker is running; a new one is being started");
  const uint64_t key = kernels_.key(source, [](uint64_t) {});
  const uint64_t id = WorkerLink::next_id();
  Writer w = message(Kind::check, id);
  w.u64(key);
  w.text(entry);
  {
    std::lock_guard sent(link->sent_mutex());
    send_kernel(*link, key, source);
  }
  auto answer = ask(w, id, link, devices_.executor.max_timeout);
  if (!answer) return answer.take_error();
  // The worker compiled it; the reflection is the front end's, computed here without a GPU.
  return reflect_wgsl(source);
}

ExecutorPool::Stats WorkerDevices::stats() const {
  ExecutorPool::Stats s;
  if (auto link = current()) {
    const uint64_t id = WorkerLink::next_id();
    Writer w = message(Kind::stats, id);
    if (auto body = ask(w, id, link, kAskTimeout)) {
      Reader r(*body);
      s = get_stats(r);
      std::lock_guard lock(mutex_);
      if (!r.failed() && link->alive()) {
        last_stats_ = s;
        last_stats_of_ = link.get();
      }
    }
  }
  std::lock_guard lock(mutex_);
  add(s, retired_stats_);
  return s;
}

std::string WorkerDevices::adapter_info_json() const {
  auto link = current();
  if (!link) return "{}";
  const uint64_t id = WorkerLink::next_id();
  Writer w = message(Kind::info, id);
  auto body = ask(w, id, link, kAskTimeout);
  if (!body) return "{}";
  return std::string(body->begin(), body->end());
}

void WorkerDevices::simulate_device_loss(size_t index) {
  auto link = current();
  if (!link) return;
  const uint64_t id = WorkerLink::next_id();
  Writer w = message(Kind::lose_device, id);
  w.u64(index);
  (void)ask(w, id, link, kAskTimeout);
}

WorkerStats WorkerDevices::worker_stats() const {
  std::lock_guard lock(mutex_);
  WorkerStats s = worker_stats_;
  s.isolated = true;
  return s;
}

void WorkerDevices::kill_worker() {
  auto link = current();
  // The reader thread reaps it; until then its pid cannot be reused.
  if (link && link->alive()) ::kill(link->pid(), SIGKILL);
}

}  // namespace kem::worker
